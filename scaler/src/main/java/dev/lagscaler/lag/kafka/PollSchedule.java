package dev.lagscaler.lag.kafka;

import java.time.Duration;
import java.time.Instant;

/**
 * When a cluster's triggers are polled, as pure rules over instants (the engine's clock passes them): when a trigger
 * is due again after a poll, and which triggers join a poll that is starting. {@link LagEngine} keeps the state and
 * the threads; the arithmetic is here, with its own table test.
 */
final class PollSchedule {
    private PollSchedule() {
    }

    /**
     * When a trigger just polled at {@code now} is due again: at once if records woke it while the poll ran (that
     * poll may have read the log ends before the record, and the wake-up consumer has already read past it);
     * else after its interval, or after {@code safetyNet} when the wake-up consumer watches it (null otherwise).
     */
    static Instant nextDue(Instant now, Duration interval, Duration safetyNet, boolean wokenDuringPoll) {
        if (wokenDuringPoll) {
            return Instant.MIN;
        }
        return now.plus(safetyNet != null && interval.compareTo(safetyNet) < 0 ? safetyNet : interval);
    }

    /**
     * Whether a trigger due at {@code due} joins a poll starting at {@code now} (coalescing): a trigger due within a
     * tenth of its interval (at most 1 s) joins. A trigger the wake-up consumer watches ({@code safetyNet} not null:
     * it is polled only as a safety net) joins any poll within half of that interval, so all of a cluster's idle
     * triggers share one poll instead of drifting apart.
     */
    static boolean joins(Instant now, Instant due, Duration interval, Duration safetyNet) {
        Duration slack = interval.dividedBy(10);
        if (slack.compareTo(Duration.ofSeconds(1)) > 0) {
            slack = Duration.ofSeconds(1);
        }
        if (safetyNet != null) {
            slack = safetyNet.dividedBy(2);
        }
        return !due.isAfter(now.plus(slack));
    }

    /**
     * How long from now the next poll of a cluster starts: when its earliest trigger is due ({@code untilDue}, negative
     * when overdue), but not sooner than {@code spacing} after the previous poll started ({@code sinceLastPoll} ago).
     * Records arriving on many partitions at once each make their triggers due now; the spacing lets the wake-ups of
     * the next few milliseconds share one poll instead of a poll each, and a first record after a quiet spell is still
     * polled at once.
     */
    static Duration tickDelay(Duration untilDue, Duration sinceLastPoll, Duration spacing) {
        Duration delay = untilDue.isNegative() ? Duration.ZERO : untilDue;
        Duration rest = spacing.minus(sinceLastPoll);
        return rest.compareTo(delay) > 0 ? rest : delay;
    }
}
