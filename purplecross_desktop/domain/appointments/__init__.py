"""Appointments: booking without double booking, rescheduling, status transitions."""

from purplecross_desktop.domain.appointments.model import (
    BLOCKING,
    FREEING,
    SQLITE_GUARDS,
    STAMP,
    TRANSITIONS,
    Appointment,
    AppointmentStatus,
    AppointmentType,
)
from purplecross_desktop.domain.appointments.service import (
    MAX_LENGTH,
    MIN_LENGTH,
    PAST_GRACE,
    AppointmentService,
    Booking,
    FreeSlot,
)

__all__ = [
    "BLOCKING",
    "FREEING",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PAST_GRACE",
    "SQLITE_GUARDS",
    "STAMP",
    "TRANSITIONS",
    "Appointment",
    "AppointmentService",
    "AppointmentStatus",
    "AppointmentType",
    "Booking",
    "FreeSlot",
]
