"""The jobs' pure parts, without servers: broker configuration, settings rules, backoff, upload ids, images."""

import base64
import io
import ssl
import struct
import zlib

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import Settings
from app.jobs.celery_app import celery_config, create_celery
from app.jobs.tasks import retry_delay
from app.jobs.uploads import Quarantine, UploadLimits, detected_type, make_thumbnail
from app.services.storage import upload_id, upload_key_owner
from tests.app.jobs.support import PDF_BYTES, png_bytes

LIMITS = UploadLimits(
    max_bytes=1_000_000,
    image_max_pixels=1_000_000,
    thumbnail_max_edge=320,
    quarantine_prefix="quarantine/",
    thumbnail_prefix="thumbnails/",
)


def test_a_tls_broker_verifies_the_server_certificate() -> None:
    config = celery_config(Settings(redis_url=SecretStr("rediss://:token@master.cache.amazonaws.com:6379/0")))
    assert config["broker_use_ssl"] == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert config["redis_backend_use_ssl"] == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert "broker_use_ssl" not in celery_config(Settings(redis_url=SecretStr("redis://127.0.0.1:6379/0")))
    # Celery itself accepts the configuration (it refuses rediss:// without ssl_cert_reqs).
    celery = create_celery(Settings(redis_url=SecretStr("rediss://:token@master.cache.amazonaws.com:6379/0")))
    assert celery.conf.broker_use_ssl["ssl_cert_reqs"] == ssl.CERT_REQUIRED


def test_the_broker_redelivers_only_after_the_longest_a_job_can_hold_its_message() -> None:
    settings = Settings(job_time_limit_seconds=300, job_retry_backoff_max_seconds=120)
    config = celery_config(settings)
    assert config["broker_transport_options"]["visibility_timeout"] == 300 + 120 + 60
    assert config["task_time_limit"] == 300
    assert config["task_soft_time_limit"] == 270
    assert (config["task_acks_late"], config["task_reject_on_worker_lost"]) == (True, True)
    assert config["worker_prefetch_multiplier"] == 1
    assert config["task_default_queue"] == "jobs"
    assert config["task_publish_retry_policy"]["max_retries"] == settings.broker_publish_max_retries
    assert config["broker_transport_options"]["max_retries"] == settings.broker_publish_max_retries


def test_a_visibility_timeout_within_the_time_limit_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(job_time_limit_seconds=300, job_retry_backoff_max_seconds=60, broker_visibility_timeout_seconds=300)
    message = str(error.value)
    assert "BROKER_VISIBILITY_TIMEOUT_SECONDS (300) must exceed JOB_TIME_LIMIT_SECONDS (300)" in message
    assert "would run twice" in message


def test_retries_back_off_exponentially_with_jitter_and_a_ceiling() -> None:
    lowest = [retry_delay(n, base=2, maximum=60, rng=lambda low, high: low) for n in range(1, 8)]
    highest = [retry_delay(n, base=2, maximum=60, rng=lambda low, high: high) for n in range(1, 8)]
    assert highest == [2, 4, 8, 16, 32, 60, 60]
    assert lowest == [1, 2, 4, 8, 16, 30, 30]


def test_an_upload_id_names_its_key_and_owner_and_nothing_else_decodes() -> None:
    key = "uploads/user-1/2026/12/" + "a" * 32 + "/тест-файл.png"
    assert upload_key_owner(upload_id(key)) == (key, "user-1")
    forged = [
        upload_id("uploads/user-1/../user-2/x.png"),
        upload_id("quarantine/uploads/user-1/2026/12/" + "a" * 32 + "/x.png"),
        upload_id("uploads/user-1/2026/12/not-a-uuid/x.png"),
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
        "not-base64!",
        upload_id(key) + "A",
    ]
    assert [upload_key_owner(value) for value in forged] == [None] * len(forged)


def test_magic_bytes_are_what_decides_the_type() -> None:
    assert detected_type(png_bytes(4, 4)) == "image/png"
    assert detected_type(PDF_BYTES) == "application/pdf"
    assert detected_type(b"just text") is None


def test_a_thumbnail_keeps_the_aspect_ratio_within_the_edge() -> None:
    from PIL import Image

    with Image.open(io.BytesIO(make_thumbnail(png_bytes(1000, 250), "image/png", LIMITS))) as image:
        assert (image.format, image.size) == ("JPEG", (320, 80))


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height pixels (the data is one compressed empty row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def test_an_image_declaring_too_many_pixels_is_quarantined_before_it_is_decoded() -> None:
    bomb = png_header_claiming(50_000, 50_000)
    assert len(bomb) < 100
    with pytest.raises(Quarantine) as verdict:
        make_thumbnail(bomb, "image/png", LIMITS)
    assert verdict.value.reason == "too_many_pixels"


def test_an_image_is_decoded_only_as_its_declared_format() -> None:
    with pytest.raises(Quarantine) as verdict:
        make_thumbnail(png_bytes(10, 10), "image/jpeg", LIMITS)  # PNG bytes, JPEG declared: no PNG decoder tried
    assert verdict.value.reason == "undecodable_image"
