"""What operators watch: log lines (`logs.py`) and the Prometheus metrics at `/metrics`."""
