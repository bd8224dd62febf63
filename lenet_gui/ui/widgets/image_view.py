"""Showing numpy images: an aspect-keeping image view, and conversions to and from QImage."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QFrame, QSizePolicy, QWidget


def array_to_qimage(arr: np.ndarray) -> QImage:
    """uint8 grey (H x W), RGB or RGBA (H x W x 3|4) -> a QImage that owns its pixels."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        fmt, stride = QImage.Format.Format_Grayscale8, w
    elif arr.shape[2] == 3:
        fmt, stride = QImage.Format.Format_RGB888, 3 * w
    else:
        fmt, stride = QImage.Format.Format_RGBA8888, 4 * w
    return QImage(arr.data, w, h, stride, fmt).copy()


def qimage_to_png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


class ImageView(QFrame):
    """An image fitted into the widget keeping its aspect ratio; nearest-neighbour for the
    28 x 28 input so that every pixel the model receives is visible as a square."""

    def __init__(self, smooth: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.smooth = smooth
        self.image: QImage | None = None
        self.background: QColor | None = None  # None: black for the 28 x 28 input, the base colour otherwise
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(90, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(180, 180)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def set_background(self, colour: QColor | None) -> None:
        self.background = colour
        self.update()

    def set_array(self, arr: np.ndarray | None) -> None:
        image = None if arr is None else array_to_qimage(arr)
        if image is not None and self.smooth:
            # Qt scales 32-bit pixels smoothly on a far faster path than grey or RGB888 ones.
            has_alpha = image.hasAlphaChannel()
            image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied if has_alpha
                                          else QImage.Format.Format_RGB32)
        self.image = image
        self.update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        area = self.contentsRect().adjusted(4, 4, -4, -4)
        background = self.background or (QColor(0, 0, 0) if not self.smooth else self.palette().base().color())
        painter.fillRect(area, background)
        if self.image is None or self.image.isNull() or area.width() <= 0:
            return
        scale = min(area.width() / self.image.width(), area.height() / self.image.height())
        if not self.smooth:  # whole pixels only, so the 28 x 28 grid stays regular
            scale = max(1, int(scale))
        w, h = int(self.image.width() * scale), int(self.image.height() * scale)
        target = area.adjusted((area.width() - w) // 2, (area.height() - h) // 2, 0, 0)
        target.setSize(QSize(w, h))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        painter.drawImage(target, self.image)
