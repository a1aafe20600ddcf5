"""StatusChip: a small rounded label whose colour says the state (scheduled, paid, overdue...).

The chip knows tones, not meanings: a screen maps its states to ``neutral``, ``info``,
``success``, ``warning``, ``error``, ``accent`` or ``muted``. Every tone is a text/background
pair from the tokens that reaches WCAG AA in both themes. ``paint_chip`` draws the same
chip inside item views (see :class:`widgets.chip_delegate.ChipDelegate`).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from PySide6.QtCore import Property, QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from widgets.theme import current_colors
from widgets.tokens import Colors, FontSize, Radius, Spacing

Tone = Literal["neutral", "info", "success", "warning", "error", "accent", "muted"]
TONES: Final[tuple[Tone, ...]] = get_args(Tone)

#: tone -> (background token, text token); each pair is in ``tokens.TEXT_PAIRS``.
TONE_TOKENS: Final[dict[str, tuple[str, str]]] = {
    "neutral": ("secondary", "on_secondary"),
    "info": ("info_bg", "info_text"),
    "success": ("success_bg", "success_text"),
    "warning": ("warning_bg", "warning_text"),
    "error": ("error_bg", "error_text"),
    "accent": ("primary", "on_primary"),
    "muted": ("disabled", "on_disabled"),
}

_PAD_X: Final = Spacing.SM
_PAD_Y: Final = 2


def tone_colors(tone: str, colors: Colors) -> tuple[QColor, QColor]:
    """(background, text) of ``tone`` in ``colors``; unknown tones read as neutral."""
    background, text = TONE_TOKENS.get(tone, TONE_TOKENS["neutral"])
    return QColor(getattr(colors, background)), QColor(getattr(colors, text))


def chip_font(base: QFont) -> QFont:
    """The chip's font: ``base`` at the small size, semi-bold."""
    font = QFont(base)
    font.setPixelSize(FontSize.SMALL)
    font.setWeight(QFont.Weight.DemiBold)
    return font


def chip_size(text: str, base: QFont) -> QSize:
    """The size a chip with ``text`` needs."""
    metrics = QFontMetrics(chip_font(base))
    # One pixel of slack: glyphs may be drawn a fraction wider than they advance.
    width = metrics.horizontalAdvance(text) + 2 * _PAD_X + 2
    return QSize(width, metrics.height() + 2 * _PAD_Y)


def paint_chip(
    painter: QPainter, rect: QRect, text: str, tone: str, colors: Colors, base: QFont
) -> None:
    """Draw a chip at the left of ``rect``, vertically centred, elided to fit."""
    font = chip_font(base)
    metrics = QFontMetrics(font)
    size = chip_size(text, base)
    width = min(size.width(), rect.width())
    room = width - 2 * _PAD_X
    fits = metrics.horizontalAdvance(text) <= room
    label = text if fits else metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
    chip = QRectF(rect.x(), rect.y() + (rect.height() - size.height()) / 2, width, size.height())
    background, foreground = tone_colors(tone, colors)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(background)
    painter.drawRoundedRect(chip, Radius.LG, Radius.LG)
    painter.setPen(foreground)
    painter.setFont(font)
    painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), label)
    painter.restore()


class StatusChip(QLabel):
    """A rounded label coloured by its tone (a QLabel, so it reads and measures as text).

    Args:
        text: what the chip says ("Arrived", "Paid").
        tone: one of ``TONES``.
        parent: the parent widget.

    Properties (Qt):
        text (str), tone (str).

    Signals:
        None: a chip only shows a state.
    """

    def __init__(self, text: str = "", tone: Tone = "neutral", parent: QWidget | None = None):
        super().__init__(parent)
        self._text = ""
        self._tone: str = "neutral"
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_tone(tone)
        self.set_text(text)

    # Public API ---------------------------------------------------------------
    def get_text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        """Change the label (and the accessible name, which is the label)."""
        self._text = text
        self.setText(text)
        self.setAccessibleName(text)
        self.updateGeometry()
        self.update()

    def get_tone(self) -> str:
        return self._tone

    def set_tone(self, tone: str) -> None:
        """Change the colour; an unknown tone is a ValueError naming the allowed ones."""
        if tone not in TONES:
            raise ValueError(f"tone: must be one of {', '.join(TONES)}, got {tone!r}")
        self._tone = tone
        self._apply_palette()
        self.update()

    def background_token(self) -> str:
        """The token name of the chip's background (what its text is read against)."""
        return TONE_TOKENS[self._tone][0]

    chip_text = Property(str, get_text, set_text)
    tone = Property(str, get_tone, set_tone)

    # Qt overrides -------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return chip_size(self._text, self.font())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.updateGeometry()  # the style sheet may change the font after construction

    def _apply_palette(self) -> None:
        # The painted text colour, also in the palette so tools that read it (contrast
        # checks, screen magnifiers) see what is drawn.
        _background, foreground = tone_colors(self._tone, current_colors())
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, foreground)
        self.setPalette(palette)

    def paintEvent(self, event: QPaintEvent) -> None:
        # A theme switch may reach us before the new tokens are current; the paint after
        # it always sees them, so the palette is brought in line here too.
        if (
            self.palette().color(QPalette.ColorRole.WindowText)
            != tone_colors(self._tone, current_colors())[1]
        ):
            self._apply_palette()
        painter = QPainter(self)
        paint_chip(painter, self.rect(), self._text, self._tone, current_colors(), self.font())
        painter.end()
