"""The municipality model: tenant configuration, database, metering, licences, audit.

Knows nothing of the engines (ocr/, transcription/) nor of the runner (automation/).
"""
