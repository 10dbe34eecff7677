package dev.lagscaler.scaling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ScaledJob arithmetic against KEDA's own: the strategy rows are the inputs and answers of KEDA 2.21's
 * pkg/scaling/executor/scale_jobs_test.go (GetEffectiveMaxScale(maxScale, running, pending, maxReplicaCount, scaleTo)),
 * the combination rows follow pkg/scaling/scaledjob/metrics.go.
 */
class JobScalingPolicyTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static ScaledJobSpec.ScalingStrategy strategy(String name, Integer deduction, String percentage) {
        return new ScaledJobSpec.ScalingStrategy(name, deduction, percentage, List.of(), "max");
    }

    record Row(String what, ScaledJobSpec.ScalingStrategy strategy, long maxScale, long running, long pending,
               long maxReplicaCount, long expectedMax, long expectedScaleTo) {
    }

    @Test
    void strategiesMatchKedasTables() {
        ScaledJobSpec.ScalingStrategy custom = strategy("custom", 1, "0.5");
        ScaledJobSpec.ScalingStrategy accurate = strategy("accurate", null, null);
        ScaledJobSpec.ScalingStrategy eager = strategy("eager", null, null);
        ScaledJobSpec.ScalingStrategy standard = strategy("default", null, null);
        for (Row row : List.of(
                new Row("default", standard, 3, 2, 0, 5, 1, 1),
                new Row("default", standard, 2, 0, 0, 5, 2, 1),
                new Row("custom 1 / 0.5", custom, 3, 2, 0, 5, 1, 1),
                new Row("custom 1 / 0.5", custom, 10, 0, 0, 10, 9, 1),
                new Row("custom without parameters is the default", strategy("custom", null, null), 3, 2, 0, 5, 1, 1),
                new Row("custom without parameters is the default", strategy("custom", null, null), 2, 0, 0, 5, 2, 1),
                new Row("custom, empty percentage: the default", strategy("custom", 1, ""), 3, 2, 0, 5, 1, 1),
                new Row("custom 2 / 0", strategy("custom", 2, "0"), 3, 2, 0, 5, 1, 1),
                new Row("custom -2 / 0: capped at maxReplicaCount", strategy("custom", -2, "0"), 3, 2, 0, 4, 4, 1),
                new Row("custom, no deduction / 0.5", strategy("custom", null, "0.5"), 10, 2, 0, 100, 9, 1),
                new Row("custom, no deduction / 0.5, none running", strategy("custom", null, "0.5"), 10, 0, 0, 100, 10, 1),
                new Row("accurate", accurate, 3, 2, 0, 5, 3, 1),
                new Row("accurate", accurate, 5, 2, 0, 5, 3, 1),
                new Row("accurate, 2 pending", accurate, 3, 4, 2, 10, 1, 1),
                new Row("accurate, 2 pending", accurate, 5, 4, 2, 5, 1, 1),
                new Row("accurate, 3 running all pending", accurate, 3, 3, 3, 5, 0, 1),
                new Row("accurate, 15 running all pending", accurate, 15, 15, 15, 20, 0, 1),
                new Row("accurate, 10 running all pending", accurate, 10, 10, 10, 15, 0, 1),
                new Row("accurate, partly pending", accurate, 20, 15, 10, 20, 5, 1),
                new Row("eager", eager, 4, 3, 0, 10, 4, 10),
                new Row("eager, pending", eager, 4, 0, 3, 10, 4, 10),
                new Row("eager", eager, 4, 7, 0, 10, 3, 10),
                new Row("eager, pending", eager, 4, 1, 6, 10, 3, 10),
                new Row("eager, above max", eager, 15, 0, 0, 10, 10, 10))) {
            long[] got = JobScalingPolicy.effectiveMaxScale(row.strategy(), row.maxScale(), row.running(), row.pending(),
                    row.maxReplicaCount(), 1);
            assertEquals(row.expectedMax(), got[0], row.what() + " " + row);
            assertEquals(row.expectedScaleTo(), got[1], row.what() + " scaleTo " + row);
        }
    }

    @Test
    void triggersCombineAsKedasCalculations() {
        List<JobScalingPolicy.TriggerMetrics> metrics = List.of(
                JobScalingPolicy.TriggerMetrics.of(40, 10, 100, true),   // asks 4
                JobScalingPolicy.TriggerMetrics.of(25, 5, 100, true),    // asks 5
                JobScalingPolicy.TriggerMetrics.of(90, 10, 100, false)); // inactive: never counted
        assertEquals(new JobScalingPolicy.Combined(true, 40, 4), JobScalingPolicy.combine(metrics, "max", 0, 100));
        assertEquals(new JobScalingPolicy.Combined(true, 25, 5), JobScalingPolicy.combine(metrics, "min", 0, 100));
        assertEquals(new JobScalingPolicy.Combined(true, 33, 5), JobScalingPolicy.combine(metrics, "avg", 0, 100),
                "32.5 and 4.5 rounded up");
        assertEquals(new JobScalingPolicy.Combined(true, 65, 9), JobScalingPolicy.combine(metrics, "sum", 0, 100));
        assertEquals(new JobScalingPolicy.Combined(true, 65, 6), JobScalingPolicy.combine(metrics, "sum", 0, 6),
                "at most maxReplicaCount");
        List<JobScalingPolicy.TriggerMetrics> idle = List.of(JobScalingPolicy.TriggerMetrics.of(0, 10, 100, false));
        assertFalse(JobScalingPolicy.combine(idle, "max", 0, 100).active());
        assertTrue(JobScalingPolicy.combine(idle, "max", 2, 100).active(), "a minimum makes it active");
        assertEquals(0, JobScalingPolicy.TriggerMetrics.of(50, 0, 100, true).maxValue(), "a zero target asks nothing");
        assertEquals(100, JobScalingPolicy.TriggerMetrics.of(5000, 10, 100, true).maxValue(), "capped at the maximum");
    }

    private static ScaledJobSpec job(String extra) throws Exception {
        return ScaledJobParser.parse(YAML.readTree("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledJob
                metadata: {name: batches, namespace: default}
                spec:
                  jobTargetRef:
                    template: {spec: {containers: [{name: worker, image: worker:1}], restartPolicy: Never}}
                %s
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t, lagThreshold: "10"}
                """.formatted(extra.indent(2))));
    }

    @Test
    void onePassCreatesWhatTheStrategyAllows() throws Exception {
        ScaledJobSpec spec = job("maxReplicaCount: 10");
        List<JobScalingPolicy.TriggerMetrics> lag = List.of(JobScalingPolicy.TriggerMetrics.of(35, 10, spec.maxJobs(), true));
        JobScalingPolicy.JobDecision first = JobScalingPolicy.decide(spec, lag, 0, 0);
        assertEquals(4, first.jobsToCreate(), "35 records at 10 a Job: 4 Jobs; " + first.reason());
        assertEquals(2, JobScalingPolicy.decide(spec, lag, 2, 0).jobsToCreate(), "2 already running");
        assertEquals(0, JobScalingPolicy.decide(spec, lag, 4, 0).jobsToCreate(), "all requested Jobs exist");
        assertEquals(0, JobScalingPolicy.decide(spec, List.of(JobScalingPolicy.TriggerMetrics.of(0, 10, 10, false)), 0, 0)
                .jobsToCreate(), "inactive");

        ScaledJobSpec withMin = job("minReplicaCount: 2\nmaxReplicaCount: 10");
        assertEquals(8, withMin.maxJobs(), "KEDA counts the minimum's Jobs apart from the maximum");
        assertEquals(2, JobScalingPolicy.decide(withMin, List.of(JobScalingPolicy.TriggerMetrics.of(0, 10, 8, false)), 0, 0)
                .jobsToCreate(), "topped up to the minimum, though idle");
        assertEquals(1, JobScalingPolicy.decide(withMin, List.of(JobScalingPolicy.TriggerMetrics.of(0, 10, 8, false)), 1, 0)
                .jobsToCreate(), "one of the minimum runs");

        ScaledJobSpec paused = ScaledJobParser.parse(YAML.readTree("""
                metadata: {name: batches, annotations: {autoscaling.keda.sh/paused: "true"}}
                spec:
                  jobTargetRef: {template: {spec: {containers: [{name: w, image: w}]}}}
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t}}]
                """));
        assertEquals(0, JobScalingPolicy.decide(paused, lag, 0, 0).jobsToCreate(), "paused");
    }

    @Test
    void theParserAppliesKedasDefaultsAndChecks() throws Exception {
        ScaledJobSpec spec = job("");
        assertEquals(30, spec.pollingIntervalSeconds());
        assertEquals(100, spec.successfulJobsHistoryLimit());
        assertEquals(100, spec.failedJobsHistoryLimit());
        assertEquals(0, spec.minJobs());
        assertEquals(100, spec.maxJobs());
        assertEquals("default", spec.scalingStrategy().strategy());
        assertEquals("max", spec.scalingStrategy().multipleScalersCalculation());
        assertFalse(spec.rollout().gradual());
        assertTrue(job("rolloutStrategy: gradual").rollout().gradual(), "the deprecated field still counts");
        assertEquals(3, job("minReplicaCount: 5\nmaxReplicaCount: 3").minJobs(), "min above max: max, as KEDA");
        for (String bad : List.of("scalingStrategy: {strategy: fastest}", "scalingStrategy: {multipleScalersCalculation: median}",
                "rollout: {strategy: sometimes}", "pollingInterval: 0")) {
            assertThrows(ScaledObjectInvalid.class, () -> job(bad), bad);
        }
    }
}
