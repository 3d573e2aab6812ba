"""The application's CSRF protection: one Flask-WTF extension, initialised by the app factory.

It lives in core so that core and the features can exempt a view or check a token without
importing the application package (which imports every feature).
"""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
