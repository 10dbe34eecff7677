package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * When a trigger just polled is due again (its interval, the safety net while watched, and at once when woken
 * meanwhile), and which triggers join a poll that starts.
 */
class PollScheduleTest {
    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    static Stream<Arguments> cases() {
        return Stream.of(
                // interval, safety net (null: not watched), woken during the poll, due after (null: at once)
                Arguments.of(Duration.ofSeconds(30), null, false, Duration.ofSeconds(30)),
                Arguments.of(Duration.ofSeconds(1), null, false, Duration.ofSeconds(1)),
                Arguments.of(Duration.ofSeconds(1), Duration.ofSeconds(30), false, Duration.ofSeconds(30)),
                Arguments.of(Duration.ofSeconds(60), Duration.ofSeconds(30), false, Duration.ofSeconds(60)),
                // A record that woke the trigger while its poll ran: that poll may have read the log end before it.
                Arguments.of(Duration.ofSeconds(1), Duration.ofSeconds(30), true, null),
                Arguments.of(Duration.ofSeconds(30), null, true, null));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void nextDue(Duration interval, Duration safetyNet, boolean woken, Duration after) {
        Instant expected = after == null ? Instant.MIN : NOW.plus(after);
        assertEquals(expected, PollSchedule.nextDue(NOW, interval, safetyNet, woken));
    }

    static Stream<Arguments> joining() {
        return Stream.of(
                // interval, safety net (null: not watched), due after NOW (negative: overdue), joins
                Arguments.of(Duration.ofSeconds(5), null, Duration.ofMillis(-1), true),
                Arguments.of(Duration.ofSeconds(5), null, Duration.ofMillis(500), true), // a tenth of 5 s
                Arguments.of(Duration.ofSeconds(5), null, Duration.ofMillis(501), false),
                Arguments.of(Duration.ofSeconds(30), null, Duration.ofSeconds(1), true), // a tenth, at most 1 s
                Arguments.of(Duration.ofSeconds(30), null, Duration.ofMillis(1001), false),
                // Watched: polled as a safety net, it joins any poll within half of that net.
                Arguments.of(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(15), true),
                Arguments.of(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMillis(15_001), false));
    }

    @ParameterizedTest
    @MethodSource("joining")
    void joins(Duration interval, Duration safetyNet, Duration dueAfter, boolean joins) {
        assertEquals(joins, PollSchedule.joins(NOW, NOW.plus(dueAfter), interval, safetyNet));
    }

    static Stream<Arguments> ticks() {
        return Stream.of(
                // until the earliest trigger is due (negative: overdue), since the last poll started, delay (ms)
                Arguments.of(Duration.ZERO, Duration.ofSeconds(10), 0L), // a first record after a quiet spell: at once
                Arguments.of(Duration.ofMillis(-500), Duration.ofSeconds(10), 0L),
                Arguments.of(Duration.ZERO, Duration.ofMillis(20), 30L), // a wake-up 20 ms after a poll began
                Arguments.of(Duration.ZERO, Duration.ofMillis(50), 0L),
                Arguments.of(Duration.ofMillis(10), Duration.ZERO, 50L),
                Arguments.of(Duration.ofSeconds(30), Duration.ZERO, 30_000L)); // a plain interval is unchanged
    }

    /** Polls start at least 50 ms apart, so wake-ups arriving together share one. */
    @ParameterizedTest
    @MethodSource("ticks")
    void tickDelay(Duration untilDue, Duration sinceLastPoll, long expectedMillis) {
        assertEquals(expectedMillis, PollSchedule.tickDelay(untilDue, sinceLastPoll, Duration.ofMillis(50)).toMillis());
    }
}
