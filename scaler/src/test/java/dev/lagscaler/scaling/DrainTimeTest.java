package dev.lagscaler.scaling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Drain-time sizing as a table: backlog, rates and bounds in, replicas out. */
class DrainTimeTest {
    private static int replicas(long backlog, double produced, double perReplica, long within, int min, int max, int partitions) {
        return DrainTime.size(backlog, produced, perReplica, within, min, max, partitions).replicas();
    }

    @Test
    void sizesForWhatArrivesPlusTheBacklogOverTheTarget() {
        // 6,000 waiting / 60 s = 100/s, plus 250/s arriving = 350/s; 100/s per replica -> 4.
        assertEquals(4, replicas(6_000, 250, 100, 60, 0, 50, 0));
        assertEquals(3, replicas(0, 250, 100, 60, 0, 50, 0), "nothing waits: just keep up with 250/s");
        assertEquals(1, replicas(0, 0, 100, 60, 0, 50, 0), "idle: one, never zero (activation decides zero)");
        assertEquals(2, replicas(0, 200, 100, 60, 0, 50, 0), "exactly two replicas' worth is two, not three");
        assertEquals(60, replicas(360_000, 0, 100, 60, 0, 100, 0));
        assertEquals(61, replicas(360_060, 0, 100, 60, 0, 100, 0), "a record over sixty replicas' worth is sixty-one");
    }

    @Test
    void boundedByMinMaxAndThePartitionCount() {
        assertEquals(5, replicas(0, 0, 100, 60, 5, 50, 0), "minReplicaCount");
        assertEquals(20, replicas(600_000, 0, 100, 60, 0, 20, 0), "maxReplicaCount");
        var capped = DrainTime.size(600_000, 0.0, 100.0, 60, 0, 50, 12);
        assertEquals(12, capped.replicas());
        assertTrue(capped.explanation().endsWith("-> 12 replicas, capped at the 12 partitions"), capped.explanation());
    }

    @Test
    void unknownRatesLeaveItToTheLagThreshold() {
        assertNull(DrainTime.size(1000, null, 100.0, 60, 0, 10, 0));
        assertNull(DrainTime.size(1000, 10.0, null, 60, 0, 10, 0));
        assertNull(DrainTime.size(1000, 10.0, 0.0, 60, 0, 10, 0));
    }

    @Test
    void aReplicasRateIsMeasuredWhileBusyWithASettledCountAndOtherwiseOnlyRaised() {
        assertEquals(50.0, DrainTime.perReplica(true, true, 200.0, 4, 80.0), "busy, 4 replicas all window: 200/s / 4");
        assertEquals(80.0, DrainTime.perReplica(true, false, 200.0, 4, 80.0),
                "just scaled to 4 (some starting): 50/s each is only a floor, below the 80 remembered");
        assertEquals(120.0, DrainTime.perReplica(true, false, 480.0, 4, 80.0), "a floor above the memory raises it");
        assertEquals(80.0, DrainTime.perReplica(false, true, 30.0, 4, 80.0), "idle consumers show what arrived");
        assertEquals(50.0, DrainTime.perReplica(true, false, 200.0, 4, null), "a first estimate from busy consumers");
        assertNull(DrainTime.perReplica(false, true, 30.0, 4, null), "idle, never measured: unknown");
        assertEquals(80.0, DrainTime.perReplica(true, true, 200.0, 0, 80.0), "at zero nothing is measured");
    }

    @Test
    void explainsItsArithmetic() {
        assertEquals("6000 records waiting / 60 s + 250.0 records/s arriving = 350.0 records/s needed; 100.0 records/s"
                + " per replica -> 4 replicas", DrainTime.size(6_000, 250.0, 100.0, 60, 0, 50, 0).explanation());
    }
}
