package dev.lagscaler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.lag.LagArithmetic;
import dev.lagscaler.lag.PartitionOffsets;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.scaling.ScaledJobParser;
import dev.lagscaler.scaling.ScaledJobSpec;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.TriggerInput;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One ScaledJob pass: the Jobs to create, the Jobs to delete, and what a measurement older than a finished Job means. */
class JobPlannerTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
    private static final JsonNode NO_STATUS = new ObjectMapper().createObjectNode();

    private static ScaledJobSpec spec(String extra) throws Exception {
        return ScaledJobParser.parse(YAML.readTree("""
                metadata: {name: batches, namespace: default}
                spec:
                  jobTargetRef: {template: {spec: {containers: [{name: w, image: "w:1"}], restartPolicy: Never}}}
                %s
                  triggers: [{type: kafka, metadata: {bootstrapServers: "k:9092", consumerGroup: g, topic: t, lagThreshold: "10"}}]
                """.formatted(extra.indent(2))));
    }

    private static JobPlanner.JobPlan plan(ScaledJobSpec spec, List<JobPlanner.ExistingJob> jobs, long lag, Instant polledAt)
            throws Exception {
        KafkaTriggerSettings settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(spec.triggers().get(0).metadata()));
        // Four partitions, the lag spread over them (one partition would cap it at one lagThreshold, as KEDA does).
        List<PartitionOffsets> offsets = new java.util.ArrayList<>();
        for (int p = 0; p < 4; p++) {
            offsets.add(new PartitionOffsets("t", p, 0L, lag / 4 + (p < lag % 4 ? 1 : 0), 0L));
        }
        var result = LagArithmetic.compute(settings, offsets, PersistentLagMemory.EMPTY);
        return JobPlanner.plan(new JobPlanner.JobPlanInput(spec, "uid", NO_STATUS, jobs, Map.of(0, settings),
                Map.of(0, new TriggerHealth(new TriggerResult.Measured(new TriggerKey("default", "sj:batches", 0), polledAt,
                        result), 0)), Duration.ofSeconds(1), NOW));
    }

    private static JobPlanner.ExistingJob done(String name, String how, int minutesAgo) {
        return new JobPlanner.ExistingJob(name, how, NOW.minusSeconds(60L * minutesAgo), false, null);
    }

    @Test
    void lagMakesJobsFromTheTemplateAsKedasExecutorDoes() throws Exception {
        JobPlanner.JobPlan plan = plan(spec(""), List.of(), 35, NOW);
        assertEquals(4, plan.create(), plan.decision().reason());
        JsonNode job = plan.job();
        assertNotNull(job);
        assertEquals("batches-", job.path("metadata").path("generateName").asText());
        assertEquals("batches", job.path("metadata").path("labels").path(JobPlanner.SCALED_JOB_LABEL).asText());
        assertEquals("ScaledJob", job.path("metadata").path("ownerReferences").get(0).path("kind").asText());
        assertEquals("w:1", job.path("spec").path("template").path("spec").path("containers").get(0).path("image").asText());
    }

    @Test
    void aMeasurementOlderThanAFinishedJobCreatesNothing() throws Exception {
        List<JobPlanner.ExistingJob> finished = List.of(new JobPlanner.ExistingJob("a", "Complete", NOW, false, null));
        assertEquals(0, plan(spec(""), finished, 35, NOW.minusSeconds(5)).create(),
                "polled before the Job finished: its records may be counted still");
        assertEquals(4, plan(spec(""), finished, 35, NOW.plusSeconds(2)).create(), "polled after: trusted");
    }

    @Test
    void historyBeyondTheLimitsGoesOldestFirst() throws Exception {
        List<JobPlanner.ExistingJob> jobs = List.of(done("s1", "Complete", 5), done("s2", "Complete", 4),
                done("s3", "Complete", 3), done("f1", "Failed", 9), done("f2", "Failed", 8));
        JobPlanner.JobPlan plan = plan(spec("successfulJobsHistoryLimit: 1\nfailedJobsHistoryLimit: 1"), jobs, 0, NOW);
        assertEquals(List.of("s1", "s2", "f1"), plan.delete());
    }

    @Test
    void theDefaultRolloutStopsJobsOfAnOlderTemplateAndGradualLetsThemFinish() throws Exception {
        List<JobPlanner.ExistingJob> running = List.of(new JobPlanner.ExistingJob("old", null, null, false, "0000"),
                new JobPlanner.ExistingJob("current", null, null, false, JobPlanner.templateHash(spec(""))));
        assertEquals(List.of("old"), plan(spec(""), running, 0, NOW).delete());
        assertEquals(List.of(), plan(spec("rollout: {strategy: gradual}"), running, 0, NOW).delete());
    }

    /** KEDA's getPendingJobCount, row by row: the pods of one unfinished Job, the conditions asked for, pending? */
    @Test
    void aJobIsPendingAsKedaCountsIt() {
        JobPlanner.JobPod scheduled = new JobPlanner.JobPod("Pending", Map.of("PodScheduled", "True"));
        JobPlanner.JobPod running = new JobPlanner.JobPod("Running", Map.of("PodScheduled", "True", "Ready", "False"));
        JobPlanner.JobPod ready = new JobPlanner.JobPod("Running", Map.of("PodScheduled", "True", "Ready", "True"));
        JobPlanner.JobPod succeeded = new JobPlanner.JobPod("Succeeded", Map.of("PodScheduled", "True", "Ready", "False"));
        record Row(List<JobPlanner.JobPod> pods, List<String> conditions, boolean pending) {
        }
        List<Row> rows = List.of(
                new Row(List.of(), List.of(), true),                              // no pod yet
                new Row(List.of(scheduled), List.of(), true),                     // scheduled, not started
                new Row(List.of(scheduled, running), List.of(), false),           // one Running, even if not Ready
                new Row(List.of(succeeded), List.of(), false),                    // done
                new Row(List.of(running), List.of("Ready"), true),                // Running but not Ready
                new Row(List.of(scheduled, ready), List.of("Ready"), false),      // one pod has it
                new Row(List.of(ready), List.of("PodScheduled", "Ready"), false), // every one listed
                new Row(List.of(running), List.of("PodScheduled", "Ready"), true),
                new Row(List.of(ready), List.of("Ready", "Ready"), true));        // KEDA counts list entries
        for (Row row : rows) {
            assertEquals(row.pending(), JobPlanner.pending(row.pods(), row.conditions()), row.toString());
        }
    }
}
