"""The Django admin pages of the extract corpus: a changelist and a change form of users.

Run by ``scripts/regen_corpus.py``; Django is configured in memory (sqlite ``:memory:``), the
users are created with fixed dates and password hashes, and the pages are fetched with Django's
test client as a logged-in superuser, so the saved HTML is the same on every run.
"""

from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

import django
from django.conf import settings

urlpatterns: list[object] = []
PASSWORD = "pbkdf2_sha256$1000000$corpussalt000000$" + "A" * 43 + "="
USERS = [
    # username, first, last, email, staff, active
    ("adupont", "Anne", "Dupont", "anne.dupont@example.com", True, True),
    ("bkeller", "Bruno", "Keller", "bruno.keller@example.org", False, True),
    ("cnakamura", "Chiaki", "Nakamura", "chiaki@example.jp", True, False),
    ("dokafor", "Daniel", "Okafor", "", False, True),
]


def _configure() -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="corpus-not-secret",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        USE_TZ=True,
        TIME_ZONE="UTC",
        STATIC_URL="/static/",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
    )
    django.setup()
    from django.contrib import admin
    from django.urls import path

    urlpatterns.append(path("admin/", admin.site.urls))


def _users() -> int:
    from django.contrib.auth.models import Group
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    joined = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.timezone.utc)
    root = User(username="root", email="root@example.com", is_staff=True, is_superuser=True)
    root.password = PASSWORD
    root.date_joined = joined
    root.save()
    editors = Group.objects.create(name="Editors")
    Group.objects.create(name="Support")
    target = 0
    for i, (name, first, last, email, staff, active) in enumerate(USERS):
        user = User(username=name, first_name=first, last_name=last, email=email)
        user.is_staff, user.is_active, user.password = staff, active, PASSWORD
        user.date_joined = joined + datetime.timedelta(days=i + 1)
        user.last_login = joined + datetime.timedelta(days=30 + i, hours=i)
        user.save()
        if name == "bkeller":
            user.groups.add(editors)
            target = user.pk
    return target


def _clean(html: str) -> str:
    """Fix the CSRF tokens, point static files at ../_static/django/, leave scripts out."""
    html = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1corpus-csrf-token", html)
    html = re.sub(r"<script\b[^>]*>.*?</script>\s*", "", html, flags=re.S)
    return html.replace('"/static/admin/', '"../_static/django/admin/')


def render(out: Path) -> dict[str, str]:
    """Write the Django pages under ``out``; return {page folder: generator string}."""
    _configure()
    from django.contrib.auth.models import User
    from django.test import Client

    target = _users()
    client = Client()
    client.force_login(User.objects.get(username="root"))
    pages = {
        "django-admin-changelist": "/admin/auth/user/?o=1",
        "django-admin-change-form": f"/admin/auth/user/{target}/change/",
    }
    for folder, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        (out / folder).mkdir(parents=True, exist_ok=True)
        text = _clean(response.content.decode("utf-8"))
        (out / folder / "page.html").write_text(text, encoding="utf-8")
    static = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin"
    for sub in ("css", "img"):
        dest = out / "_static" / "django" / "admin" / sub
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(static / sub, dest, ignore=shutil.ignore_patterns("gis", "vendor"))
    return {name: f"django {django.get_version()} (admin, test client)" for name in pages}
