package dev.lagscaler.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every rule of keda-semantics.md §2 and §3 has at least one row here. */
class LagArithmeticTest {
    private static final long NONE = PartitionOffsets.NONE;

    static KafkaTriggerSettings settings(String... keyValues) throws Exception {
        Map<String, String> m = new HashMap<>(Map.of("bootstrapServers", "k:9092", "consumerGroup", "g", "topic", "t"));
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                m.remove(keyValues[i]);
            } else {
                m.put(keyValues[i], keyValues[i + 1]);
            }
        }
        return KafkaTriggerParser.parse(TriggerInput.ofMetadata(m));
    }

    /** "committed/latest[/earliest]" per partition, e.g. "100/105 -1/7/2 3/-1"; -1 is "none". */
    static List<PartitionOffsets> offsets(String spec) {
        List<PartitionOffsets> list = new ArrayList<>();
        if (spec.isBlank()) {
            return list;
        }
        int partition = 0;
        for (String item : spec.trim().split("\\s+")) {
            String[] parts = item.split("/");
            list.add(new PartitionOffsets("t", partition++, Long.parseLong(parts[0]), Long.parseLong(parts[1]),
                    parts.length > 2 ? Long.parseLong(parts[2]) : NONE));
        }
        return list;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # rule                                   | metadata (k=v;k=v)                                  | offsets                 | metric | withPersistent | active
            valid commit: latest - committed          | lagThreshold=10                                      | 100/105 0/10            | 15     | 15             | true
            no lag is inactive                         | lagThreshold=10                                      | 5/5 7/7                 | 0      | 0              | false
            no commit, latest policy: 1               | lagThreshold=10                                      | -1/500                  | 1      | 1              | true
            no commit, latest policy, scaleToZero: 0  | scaleToZeroOnInvalidOffset=true                      | -1/500                  | 0      | 0              | false
            no commit, earliest policy: log-end       | offsetResetPolicy=earliest                           | -1/500                  | 10     | 500            | true
            no commit, earliest, uncapped              | offsetResetPolicy=earliest;lagThreshold=1000         | -1/500                  | 500    | 500            | true
            no commit, earliest, log start known: retained | offsetResetPolicy=earliest;lagThreshold=1000 | -1/500/120      | 380    | 380            | true
            no commit, earliest, start past the end: 0 | offsetResetPolicy=earliest;lagThreshold=1000    | -1/500/510              | 0      | 0              | false
            committed beyond the log end counts 0      | lagThreshold=10                                      | 50/40 0/7               | 7      | 7              | true
            no commit, earliest, scaleToZero: 0       | offsetResetPolicy=earliest;scaleToZeroOnInvalidOffset=true | -1/500            | 0      | 0              | false
            missing from log-end answer: 0, uncounted  | lagThreshold=10                                      | 0/-1 0/30               | 10     | 30             | true
            activation is strictly above threshold     | activationLagThreshold=15;lagThreshold=100           | 0/15                    | 15     | 15             | false
            activation above threshold                 | activationLagThreshold=15;lagThreshold=100           | 0/16                    | 16     | 16             | true
            cap at partitions x threshold              | lagThreshold=50                                      | 0/1000 0/1000 0/0       | 150    | 2000           | true
            cap uses integer division (no cap)         | lagThreshold=10                                      | 0/19                    | 19     | 19             | true
            cap uses integer division (cap)            | lagThreshold=10                                      | 0/20 0/0                | 20     | 20             | true
            allowIdleConsumers disables the cap        | allowIdleConsumers=true;lagThreshold=50              | 0/1000 0/1000 0/0       | 2000   | 2000           | true
            limitToPartitionsWithLag caps at lagging   | limitToPartitionsWithLag=true;lagThreshold=50        | 0/1000 0/0 0/0          | 50     | 1000           | true
            even distribution rounds up to a divisor   | ensureEvenDistributionOfPartitions=true;lagThreshold=10 | 0/25 0/0 0/0 0/0 0/0 0/0 | 30 | 25        | true
            even distribution: divisor 1               | ensureEvenDistributionOfPartitions=true;lagThreshold=10 | 0/5 0/0 0/0 0/0      | 10     | 5              | true
            even distribution: after the cap           | ensureEvenDistributionOfPartitions=true;lagThreshold=10 | 0/500 0/0 0/0 0/0 0/0 0/0 | 60 | 500       | true
            even distribution: 4 of 6 becomes 6        | ensureEvenDistributionOfPartitions=true;lagThreshold=10 | 0/40 0/0 0/0 0/0 0/0 0/0 | 60 | 40        | true
            no partitions at all                       | lagThreshold=10                                      |                         | 0      | 0              | false
            """)
    void tableOfKedaRules(String rule, String metadata, String spec, long metric, long withPersistent, boolean active)
            throws Exception {
        List<String> kv = new ArrayList<>();
        for (String pair : metadata.split(";")) {
            String[] p = pair.split("=");
            kv.add(p[0].trim());
            kv.add(p[1].trim());
        }
        LagResult r = LagArithmetic.compute(settings(kv.toArray(String[]::new)), offsets(spec == null ? "" : spec),
                PersistentLagMemory.EMPTY);
        assertEquals(metric, r.metricValue(), "metric");
        assertEquals(withPersistent, r.totalLagWithPersistent(), "lag with persistent");
        assertEquals(active, r.active(), "active");
    }

    @Test
    void persistentLagIsExcludedFromTheMetricButStillActivates() throws Exception {
        KafkaTriggerSettings s = settings("excludePersistentLag", "true", "lagThreshold", "100");
        LagResult first = LagArithmetic.compute(s, offsets("10/20 5/8"), PersistentLagMemory.EMPTY);
        assertEquals(13, first.metricValue());
        // Partition 0 did not move, partition 1 did.
        LagResult second = LagArithmetic.compute(s, offsets("10/25 8/9"), first.next());
        assertEquals(1, second.metricValue());
        assertEquals(16, second.totalLagWithPersistent());
        assertEquals(PartitionLag.Rule.PERSISTENT, second.partitions().get(0).rule());
        // Once it moves again it counts again.
        LagResult third = LagArithmetic.compute(s, offsets("11/25 8/9"), second.next());
        assertEquals(14, third.metricValue());
    }

    @Test
    void persistentLagNeedsTheSettingOn() throws Exception {
        KafkaTriggerSettings s = settings("lagThreshold", "100");
        LagResult first = LagArithmetic.compute(s, offsets("10/20"), PersistentLagMemory.EMPTY);
        LagResult second = LagArithmetic.compute(s, offsets("10/20"), first.next());
        assertEquals(10, second.metricValue());
    }

    @Test
    void capKeepsTheCountOfPartitionsWithLag() throws Exception {
        LagResult r = LagArithmetic.compute(settings("lagThreshold", "10"), offsets("0/100 0/0 0/3"), PersistentLagMemory.EMPTY);
        assertEquals(3, r.partitionCount());
        assertEquals(2, r.partitionsWithLag());
        assertEquals(3, r.upperBound());
        assertEquals(true, r.capped());
        assertEquals(103, r.rawTotalLag());
        assertEquals(30, r.metricValue());
    }

    @ParameterizedTest
    @CsvSource({"0,10,6,1", "10,10,6,1", "11,10,6,2", "25,10,6,3", "31,10,6,6", "70,10,6,6", "5,10,7,1", "11,10,7,7", "0,10,0,0"})
    void evenDistributionFactorIsTheSmallestSufficientDivisor(long lag, long threshold, long partitions, long factor) {
        assertEquals(factor, LagArithmetic.evenDistributionFactor(lag, threshold, partitions));
    }
}
