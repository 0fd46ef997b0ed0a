"""Long jobs the CLI starts, not the HTTP service: `batch` (reasons written ahead on Ray, into the reason store
the service serves from) and `model_report` (`whyrec report`, one HTML page about a model). Both take their
stack from `service.stack`, so what they compute is what the service serves."""
