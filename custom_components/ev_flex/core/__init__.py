"""EV Flex domain logic. Nothing in this package imports Home Assistant."""
