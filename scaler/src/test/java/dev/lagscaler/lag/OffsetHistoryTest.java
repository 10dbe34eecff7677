package dev.lagscaler.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class OffsetHistoryTest {
    private static final TopicPartitionKey P = new TopicPartitionKey("t", 0);

    @Test
    void interpolatesWhenTheCommittedRecordWasWritten() {
        OffsetHistory h = new OffsetHistory();
        h.record(P, 0, 0);
        h.record(P, 100, 10_000);
        h.record(P, 200, 20_000);
        assertEquals(10.0, h.secondsBehind(P, 150, 200, 25_000), 1e-9, "offset 150 was written at 15 s");
        assertEquals(25.0, h.secondsBehind(P, 0, 200, 25_000), 1e-9);
        assertEquals(0.0, h.secondsBehind(P, 200, 200, 25_000), "nothing waits");
        assertEquals(0.0, h.secondsBehind(P, 250, 200, 25_000), "a commit beyond the log end waits for nothing");
    }

    @Test
    void saysItDoesNotKnowRatherThanInventing() {
        OffsetHistory h = new OffsetHistory();
        assertNull(h.secondsBehind(P, 5, 10, 1000), "no history");
        h.record(P, 100, 0);
        h.record(P, 110, 5_000);
        assertNull(h.secondsBehind(P, 50, 110, 6_000), "committed before the oldest sample");
    }

    @Test
    void forgetsPartitionsNoLongerPolled() {
        OffsetHistory h = new OffsetHistory();
        TopicPartitionKey other = new TopicPartitionKey("other", 0);
        h.record(P, 0, 0);
        h.record(P, 100, 10_000);
        long later = OffsetHistory.FORGET_AFTER_MS - 1000;
        h.record(other, 5, later);
        assertEquals(later / 1000.0 - 5, h.secondsBehind(P, 50, 100, later), 1e-9, "still within the horizon");
        long past = 10_000 + OffsetHistory.FORGET_AFTER_MS + 3_600_001L;
        h.record(other, 5, past);
        assertNull(h.secondsBehind(P, 50, 100, past), "a partition unpolled for two days is forgotten");
        assertEquals((past - later) / 1000.0, h.spanSeconds(other), 1e-9, "a polled one stays");
    }

    @Test
    void keepsABoundedHistoryAtLeastASecondApart() {
        OffsetHistory h = new OffsetHistory();
        for (int i = 0; i < 100; i++) {
            h.record(P, i * 10L, i * 1000L);
        }
        assertEquals(29.0, h.spanSeconds(P), 1e-9, OffsetHistory.SAMPLES + " samples, a second apart");
        h.record(P, 995, 99_500); // half a second after the newest: it moves forward instead of adding
        assertEquals(29.5, h.spanSeconds(P), 1e-9);
        assertNull(h.secondsBehind(P, 100, 995, 100_000), "older than the history kept");
    }
}
