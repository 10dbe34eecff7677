package dev.lagscaler.lag.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** When a trigger just polled is due again: its interval, the safety net while watched, and at once when woken meanwhile. */
class NextDueTest {
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
        assertEquals(expected, LagEngine.nextDue(NOW, interval, safetyNet, woken));
    }
}
