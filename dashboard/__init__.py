"""The Streamlit dashboard: a client of the storage service that never opens the database file."""
