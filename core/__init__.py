"""edgeloop domain: schemas, learners, storage and the service layer."""

__version__ = "0.1.0"
