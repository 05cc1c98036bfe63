"""Domain types of saraban-flow: Thai dates and numbers, letters, agencies, and (in `tables`) storage.

Importing this package opens no database and imports no Prefect.
"""
