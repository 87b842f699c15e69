"""get: the AWS calls, one module per resource kind; LISTINGS is every kind's listings, in
the order the collector starts them."""

from scanner.aws import endpoint_configs, endpoints, groups, model_cards, model_packages, models

LISTINGS = (
    model_packages.LISTINGS
    + groups.LISTINGS
    + models.LISTINGS
    + endpoint_configs.LISTINGS
    + endpoints.LISTINGS
    + model_cards.LISTINGS
)
