"""trygghetskarta: safety-walk and incident mapping for a Swedish municipality.

The core package: records, store, geography, import, analysis, maps and reports. It never imports
Streamlit; the app (``app.py``, ``app_pages/``) and the CLI call into it.
"""

__version__ = "0.1.0"
