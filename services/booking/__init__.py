"""Services of the booking: seat inventory, holds, limits, bookings and cancellations
(all seat logic)."""
