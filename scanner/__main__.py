from scanner.cli import main

if __name__ == "__main__":  # not in a worker process, which imports this as __mp_main__
    main()
