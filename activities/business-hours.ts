/**
 * "During business hours" for the audit heartbeat (change-gate Edge Case 3): a quiet webhook at 3 a.m. on a
 * Sunday is normal, a quiet webhook at 11 a.m. on a Tuesday means deliveries are failing. Pure: the clock and
 * the time zone are arguments.
 */
import type { BusinessHours } from '../platform/config';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Day of week (0 = Sunday) and minute of day of `at` in an IANA time zone. */
export function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: WEEKDAYS.indexOf(part('weekday')), minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/** True when `at` falls within the business hours, both ends of the day range included, the minute range
 * half-open (`08:00-18:00` includes 08:00, excludes 18:00). Ranges may wrap (`Fri-Mon`, `22:00-06:00`). */
export function withinBusinessHours(at: Date, hours: BusinessHours, timeZone: string): boolean {
  if (hours.always) return true;
  const { day, minute } = localTime(at, timeZone);
  const dayOk = hours.fromDay <= hours.toDay ? day >= hours.fromDay && day <= hours.toDay : day >= hours.fromDay || day <= hours.toDay;
  const minuteOk =
    hours.fromMinute <= hours.toMinute ? minute >= hours.fromMinute && minute < hours.toMinute : minute >= hours.fromMinute || minute < hours.toMinute;
  return dayOk && minuteOk;
}
