"""The Streamlit app's helpers, by job: ``runtime`` (set up once by app.py), ``resources`` (cached
loaders), ``classroom``, ``canvas``, ``widgets``, ``nav`` (the pages, declared once), and the views of
the pages that have their own: ``draw``, ``train``, ``evaluation``, ``compare``. The work itself
happens in :mod:`siamese`; nothing here is needed outside the app."""
