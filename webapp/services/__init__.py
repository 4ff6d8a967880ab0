"""The domain: functions taking a Session and plain values, raising domain errors."""
