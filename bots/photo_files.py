"""An officer's photo for an appeal, checked and re-encoded (Slack's form and ``lookout alert … --photo``).

JPEG, PNG, WebP and GIF (its first frame) are taken; anything else (HEIC, BMP, PDF…) is refused with the formats
that are. The size and the pixel count are checked before the picture is decoded (no decompression bombs); it is
then turned upright from its EXIF orientation, scaled to fit ``PHOTO_EDGE`` and saved as a fresh JPEG: nothing of
the original file's metadata (EXIF location, camera serial numbers, editing history) survives.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from core.alert_photos import MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, PHOTO_EDGE, new_photo_token
from core.errors import InvalidInput
from core.model import AlertPhoto

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
JPEG_QUALITY = 85
FIELD = "photo"


def _refuse(message: str) -> InvalidInput:
    return InvalidInput.one(FIELD, message)


def prepare_photo(data: bytes, name: str = "photo") -> AlertPhoto:
    """``data`` as the JPEG residents get, or InvalidInput on the ``photo`` field saying what is wrong."""
    if not data:
        raise _refuse(f"{name} is empty; attach the picture again")
    if len(data) > MAX_PHOTO_BYTES:
        raise _refuse(
            f"{name} is {len(data) / 1024 / 1024:.1f} MB; the most is {MAX_PHOTO_BYTES // (1024 * 1024)} MB. "
            "Send a smaller copy (a phone's 'medium' size is plenty)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            kind = image.format or ""
            if kind not in ACCEPTED_FORMATS:
                raise _refuse(
                    f"{name} is a {kind or 'file'} picture; Lookout takes {', '.join(ACCEPTED_FORMATS.values())}. "
                    "Save it as a JPEG and attach that"
                )
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise _refuse(
                    f"{name} is {image.width} × {image.height} pixels; the most is "
                    f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels. Send a smaller copy"
                )
            image.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(f"{name} is not a picture Lookout can read; attach a JPEG or PNG photo") from None
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt data
        raise _refuse(f"{name} could not be read (the file looks damaged); attach it again") from None
    if getattr(image, "is_animated", False):
        image.seek(0)  # an animated GIF: its first frame
    upright = ImageOps.exif_transpose(image) or image
    upright = upright.convert("RGB")
    upright.thumbnail((PHOTO_EDGE, PHOTO_EDGE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif= given: none is written
    jpeg = out.getvalue()
    return AlertPhoto(
        data=jpeg,
        width=upright.width,
        height=upright.height,
        size=len(jpeg),
        sha256=hashlib.sha256(jpeg).hexdigest(),
        token=new_photo_token(),
    )
