"""get: the AWS calls, one module per resource kind; LISTINGS is every kind's listings, in
the order the collector starts them."""

from scanner.aws import groups, model_packages

LISTINGS = model_packages.LISTINGS + groups.LISTINGS
