package dev.lagscaler.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.ConsumerHealth.Status;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Burrow's partition states from a window of polls, one poll every 5 s (stall after 30 s, stop after 60 s). */
class CommitWindowTest {
    private static final ConsumerHealth.Settings SETTINGS =
            new ConsumerHealth.Settings(5, Duration.ofSeconds(30), Duration.ofSeconds(60));
    private static final TopicPartitionKey P0 = new TopicPartitionKey("orders", 0);
    private static final TopicPartitionKey P1 = new TopicPartitionKey("orders", 1);

    /** Feeds polls of (committed, log end) for one partition, 5 s apart, and judges after the last. */
    private static ConsumerHealth judge(long[][] polls) {
        CommitWindow window = new CommitWindow(SETTINGS);
        long t = 0;
        for (long[] poll : polls) {
            window.record("g", P0, poll[0], poll[1] - poll[0], t);
            t += 5_000;
        }
        long[] last = polls[polls.length - 1];
        return window.judge("g", List.of(partition(P0, last[0], last[1])), t - 5_000);
    }

    private static PartitionLag partition(TopicPartitionKey key, long committed, long end) {
        return new PartitionLag(new PartitionOffsets(key.topic(), key.partition(), committed, end), end - committed,
                end - committed, PartitionLag.Rule.COMMITTED);
    }

    @Test
    void aGroupThatKeepsUpIsOk() {
        assertEquals(Status.OK, judge(new long[][]{{0, 10}, {10, 20}, {20, 30}, {30, 40}, {40, 40}}).status());
        assertEquals(Status.OK, judge(new long[][]{{0, 100}, {50, 160}, {120, 200}, {190, 250}, {240, 300}}).status(),
                "lag that goes down as well as up");
    }

    @Test
    void nothingWaitingIsOkHoweverLongTheOffsetStands() {
        long[][] idle = new long[20][];
        for (int i = 0; i < idle.length; i++) {
            idle[i] = new long[]{500, 500};
        }
        ConsumerHealth health = judge(idle);
        assertEquals(Status.OK, health.status());
        assertTrue(health.summary().contains("nothing waits"), health.summary());
    }

    @Test
    void lagGrowingAtEveryPollOfAFullWindowIsWarn() {
        ConsumerHealth health = judge(new long[][]{{0, 10}, {5, 30}, {10, 60}, {15, 90}, {20, 140}});
        assertEquals(Status.WARN, health.status());
        assertTrue(health.summary().contains("grew at each of the last 5 polls (10 to 120 records)"), health.summary());
        assertEquals(Status.OK, judge(new long[][]{{5, 30}, {10, 60}, {15, 90}, {20, 140}}).status(),
                "a window not yet full says nothing about growth");
    }

    @Test
    void anOffsetStandingStillWhileRecordsWaitStallsThenStops() {
        assertEquals(Status.OK, judge(new long[][]{{7, 20}, {7, 20}, {7, 20}, {7, 20}, {7, 20}, {7, 20}}).status(),
                "25 s standing: not yet");
        ConsumerHealth stalled = judge(new long[][]{{7, 20}, {7, 20}, {7, 20}, {7, 20}, {7, 20}, {7, 20}, {7, 20}});
        assertEquals(Status.STALL, stalled.status());
        assertTrue(stalled.summary().contains("committed offset 7 on orders-0 has not moved for 30 s while 13 records wait"),
                stalled.summary());
        long[][] thirteen = new long[13][];
        for (int i = 0; i < thirteen.length; i++) {
            thirteen[i] = new long[]{7, 20};
        }
        assertEquals(Status.STOP, judge(thirteen).status(), "60 s standing");
    }

    @Test
    void theStallClockStartsWhenRecordsArriveNotWhenTheOffsetWasCommitted() {
        // Idle at 500 for 40 s, then 30 records arrive: a consumer has had no time to commit them yet.
        long[][] polls = new long[11][];
        for (int i = 0; i < 9; i++) {
            polls[i] = new long[]{500, 500};
        }
        polls[9] = new long[]{500, 530};
        polls[10] = new long[]{500, 530};
        assertEquals(Status.OK, judge(polls).status(), "5 s waiting, not 50");
    }

    @Test
    void anOffsetMovingBackIsRewindUntilItLeavesTheWindow() {
        assertEquals(Status.REWIND, judge(new long[][]{{100, 120}, {110, 130}, {20, 140}, {40, 140}}).status());
        assertEquals(Status.OK, judge(new long[][]{{100, 120}, {20, 140}, {40, 140}, {60, 140}, {80, 140}, {100, 140},
                {120, 140}}).status(), "five polls later the rewind is out of the window");
    }

    @Test
    void theGroupShowsItsWorstPartitionAndCountsTheOthers() {
        CommitWindow window = new CommitWindow(SETTINGS);
        TopicPartitionKey p2 = new TopicPartitionKey("orders", 2);
        for (long t = 0; t <= 40_000; t += 5_000) {
            window.record("g", P0, t, 10, t);   // moving
            window.record("g", P1, 3, 50, t);   // standing with 50 waiting
            window.record("g", p2, 4, 60, t);   // standing with 60 waiting
            window.record("other", P1, t, 0, t); // another group on the same partition, fine
        }
        ConsumerHealth health = window.judge("g", List.of(partition(P0, 40_000, 40_010), partition(P1, 3, 53),
                partition(p2, 4, 64)), 40_000);
        assertEquals(Status.STALL, health.status());
        assertEquals(Status.OK, health.perPartition().get(P0));
        assertTrue(health.summary().contains("(and 1 more partition(s) STALL)"), health.summary());
        assertEquals(Status.OK, window.judge("other", List.of(partition(P1, 40_000, 40_000)), 40_000).status());
    }

    @Test
    void measuresWhatArrivesAndWhatIsCommittedPerSecondAndWhetherTheConsumersWereBusy() {
        // 20 records/s arrive and 12/s are committed, on each of two partitions, for 20 s.
        CommitWindow window = new CommitWindow(SETTINGS);
        for (long t = 0; t <= 20_000; t += 5_000) {
            long seconds = t / 1000;
            window.record("g", P0, 12 * seconds, 100 + 8 * seconds, t);
            window.record("g", P1, 12 * seconds, 100 + 8 * seconds, t);
        }
        ConsumerHealth.Throughput rates = window.judge("g", List.of(partition(P0, 240, 500), partition(P1, 240, 500)),
                20_000).throughput();
        assertEquals(40.0, rates.producedPerSecond(), 1e-9);
        assertEquals(24.0, rates.consumedPerSecond(), 1e-9);
        assertEquals(20.0, rates.windowSeconds(), 1e-9);
        assertTrue(rates.saturated(), "records waited at every poll");
        assertFalse(judge(new long[][]{{0, 10}, {10, 20}, {20, 20}}).throughput().saturated(), "drained once: not busy");
        assertFalse(new CommitWindow(SETTINGS).judge("g", List.of(partition(P0, 0, 0)), 0).throughput().known());
    }

    @Test
    void aPartitionNeverCommittedIsNotJudged() {
        CommitWindow window = new CommitWindow(SETTINGS);
        ConsumerHealth health = window.judge("g", List.of(partition(P0, 0, 10)), 0);
        assertFalse(health.judged());
    }

    @Test
    void twoTriggersOnOneGroupInOnePollCountOnce() {
        CommitWindow window = new CommitWindow(SETTINGS);
        for (long t = 0; t < 25_000; t += 5_000) {
            window.record("g", P0, t, 10 + t, t);
            window.record("g", P0, t, 10 + t, t);
        }
        assertEquals(Status.WARN, window.judge("g", List.of(partition(P0, 20_000, 40_010)), 20_000).status(),
                "five distinct polls fill the window of five");
    }

    @Test
    void settingsRefuseAWindowThatCannotJudge() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ConsumerHealth.Settings(1, Duration.ofSeconds(1), Duration.ofSeconds(2)));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ConsumerHealth.Settings(5, Duration.ofSeconds(60), Duration.ofSeconds(30)));
    }
}
