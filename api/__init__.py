"""The REST service (FastAPI). Built on the detector library; no detection logic here."""
