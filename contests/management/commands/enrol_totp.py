from base64 import b32encode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from contests.models import AuditEvent, AuditEventKind


class Command(BaseCommand):
    help = (
        "Enrol a TOTP device (an authenticator app) for a user, for two-factor sign-in, and "
        "print what to scan or type into the app: shown only now. --replace removes the "
        "user's other TOTP devices first (a lost phone)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Authenticator app", help="the device's name")
        parser.add_argument(
            "--replace", action="store_true", help="remove the user's other TOTP devices"
        )
        parser.add_argument(
            "--qr", action="store_true", help="also draw the otpauth:// address as a QR code"
        )

    @transaction.atomic
    def handle(self, *args, username, name, replace, qr, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.exists() and not replace:
            raise CommandError(
                f"{username} already has a TOTP device; give --replace to replace it."
            )
        existing.delete()
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        AuditEvent.objects.create(
            at=timezone.now(),
            kind=AuditEventKind.TWO_FACTOR_ENROLLED,
            user=user,
            username=user.get_username(),
            detail=f"TOTP device {name!r} enrolled by manage.py enrol_totp",
        )
        secret = b32encode(device.bin_key).decode()
        self.stdout.write(f"Enrolled a TOTP device for {username}. In the authenticator app,")
        self.stdout.write(
            "scan this address (or its QR code) or type the secret key; shown only now:"
        )
        self.stdout.write(f"  {device.config_url}")
        self.stdout.write(f"  secret key: {secret}")
        if qr:
            import qrcode

            code = qrcode.QRCode(border=1)
            code.add_data(device.config_url)
            code.print_ascii(out=self.stdout, invert=True)
