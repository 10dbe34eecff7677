package dev.lagscaler.scaling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** KEDA's scaling loop (keda-semantics.md §4, §5), one behaviour per test. */
class ScalingPolicyTest {
    static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");
    static final Instant NOW = CREATED.plusSeconds(3600);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static ScaledObjectSpec spec(String extraSpec, String annotations) throws Exception {
        String yaml = """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata:
                  name: kafka-scaledobject
                  namespace: default
                  creationTimestamp: "2026-01-01T00:00:00Z"
                  annotations: {%s}
                spec:
                  scaleTargetRef:
                    name: consumer-deployment
                  triggers:
                  - type: kafka
                    metadata:
                      bootstrapServers: kafka.default.svc:9092
                      consumerGroup: my-group
                      topic: events
                      lagThreshold: "50"
                %s
                """.formatted(annotations, extraSpec.indent(2));
        return ScaledObjectParser.parse(YAML.readTree(yaml));
    }

    static Decision decide(ScaledObjectSpec spec, int current, Instant lastActive, TriggerOutcome... outcomes) {
        return ScalingPolicy.decide(new ScalingInput(spec, List.of(outcomes), current, lastActive, NOW));
    }

    @Test
    void seedDefaultsMatchKeda() throws Exception {
        ScaledObjectSpec s = spec("", "");
        assertEquals("keda-hpa-kafka-scaledobject", s.hpaName());
        assertEquals(30, s.pollingIntervalSeconds());
        assertEquals(300, s.cooldownPeriodSeconds());
        assertEquals(0, s.minReplicaCount());
        assertEquals(1, s.hpaMinReplicas());
        assertEquals(100, s.maxReplicaCount());
        assertEquals("Deployment", s.target().kind());
        assertEquals("apps/v1", s.target().apiVersion());
    }

    @Test
    void activatesFromZeroAtOnce() throws Exception {
        Decision d = decide(spec("", ""), 0, null, TriggerOutcome.measured(0, 120, true));
        assertEquals(1, d.replicas());
        assertTrue(d.scaleWrite());
        assertEquals("KEDAScaleTargetActivated", d.event());
        assertEquals(NOW, d.lastActiveTime());
        assertEquals("True", d.conditions().get("Active").status());
    }

    @Test
    void activatesToMinReplicaCount() throws Exception {
        Decision d = decide(spec("minReplicaCount: 3\nidleReplicaCount: 0", ""), 0, null, TriggerOutcome.measured(0, 1, true));
        assertEquals(3, d.replicas());
    }

    @Test
    void activeAboveZeroLeavesScalingToTheHpa() throws Exception {
        Decision d = decide(spec("", ""), 4, null, TriggerOutcome.measured(0, 500, true));
        assertEquals(4, d.replicas());
        assertFalse(d.scaleWrite());
        assertTrue(d.hpaWanted());
    }

    @Test
    void neverActiveScalesToZeroAfterInitialCooldown() throws Exception {
        Decision d = decide(spec("", ""), 1, null, TriggerOutcome.measured(0, 0, false));
        assertEquals(0, d.replicas());
        assertTrue(d.scaleWrite());
        assertEquals("KEDAScaleTargetDeactivated", d.event());
        assertTrue(d.atZero());
        Decision waiting = decide(spec("initialCooldownPeriod: 7200", ""), 1, null, TriggerOutcome.measured(0, 0, false));
        assertFalse(waiting.scaleWrite());
    }

    @Test
    void scalesToZeroOnlyAfterCooldown() throws Exception {
        ScaledObjectSpec s = spec("cooldownPeriod: 60", "");
        Decision inCooldown = decide(s, 2, NOW.minusSeconds(30), TriggerOutcome.measured(0, 0, false));
        assertFalse(inCooldown.scaleWrite());
        assertEquals("ScalerCooldown", inCooldown.conditions().get("Active").reason());
        Decision after = decide(s, 2, NOW.minusSeconds(61), TriggerOutcome.measured(0, 0, false));
        assertEquals(0, after.replicas());
    }

    @Test
    void scalesToIdleNotZeroWhenIdleIsSet() throws Exception {
        ScaledObjectSpec s = spec("idleReplicaCount: 1\nminReplicaCount: 2", "");
        assertEquals(1, decide(s, 5, NOW.minusSeconds(301), TriggerOutcome.measured(0, 0, false)).replicas());
        assertEquals(2, decide(s, 1, null, TriggerOutcome.measured(0, 5, true)).replicas(), "idle -> min on activity");
    }

    @Test
    void inactiveWithMinAboveZeroStaysForTheHpa() throws Exception {
        Decision d = decide(spec("minReplicaCount: 2", ""), 5, NOW.minusSeconds(1000), TriggerOutcome.measured(0, 0, false));
        assertFalse(d.scaleWrite());
        assertEquals(2, decide(spec("minReplicaCount: 2", ""), 0, null, TriggerOutcome.measured(0, 0, false)).replicas(),
                "below min is raised to min");
    }

    @Test
    void anErrorNeverScalesToZero() throws Exception {
        Decision d = decide(spec("", ""), 3, NOW.minusSeconds(10_000), TriggerOutcome.failed(0, 50, "broker down"));
        assertEquals(3, d.replicas());
        assertFalse(d.scaleWrite());
        assertEquals("TriggerError", d.conditions().get("Ready").reason());
        assertEquals("False", d.conditions().get("Ready").status());
        assertNull(d.event());
    }

    @Test
    void activeWithAnErrorIsAPartialErrorAndKeepsLastActiveTime() throws Exception {
        ScaledObjectSpec s = twoKafkaTriggers();
        Instant last = NOW.minusSeconds(5);
        Decision d = decide(s, 2, last, TriggerOutcome.measured(0, 100, true), TriggerOutcome.failed(1, 1, "x"));
        assertEquals("PartialTriggerError", d.conditions().get("Ready").reason());
        assertEquals(last, d.lastActiveTime());
    }

    private static ScaledObjectSpec twoKafkaTriggers() throws Exception {
        return spec("""
                triggers:
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: a, topic: a}
                - type: kafka
                  metadata: {bootstrapServers: "k:9092", consumerGroup: b, topic: b}
                """, "");
    }

    @Test
    void fallbackHoldsFallbackReplicasBeyondTheThreshold() throws Exception {
        ScaledObjectSpec s = spec("fallback: {failureThreshold: 3, replicas: 6}", "");
        Decision within = decide(s, 2, null, TriggerOutcome.failed(0, 3, "down"));
        assertFalse(within.scaleWrite());
        assertEquals("False", within.conditions().get("Fallback").status());
        Decision beyond = decide(s, 2, null, TriggerOutcome.failed(0, 4, "down"));
        assertEquals(6, beyond.replicas());
        assertEquals("FallbackExists", beyond.conditions().get("Fallback").reason());
        Decision fromZero = decide(s, 0, null, TriggerOutcome.failed(0, 4, "down"));
        assertEquals(6, fromZero.replicas(), "a trigger in fallback counts as active: it brings a target at zero back");
        // KEDA 2.19's conditions in fallback, but Ready: Active=True and lastActiveTime refreshed (the cooldown starts
        // again after the outage); Ready stays False with TriggerError, on purpose (README, Where we differ).
        assertEquals("True", beyond.conditions().get("Active").status());
        assertEquals(NOW, beyond.lastActiveTime());
        assertEquals("False", beyond.conditions().get("Ready").status());
        assertEquals("TriggerError", beyond.conditions().get("Ready").reason());
        assertNull(within.lastActiveTime(), "below the threshold nothing is refreshed");
    }

    @Test
    void fallbackBehaviors() {
        assertEquals(6, ScalingPolicy.fallbackReplicas(new ScaledObjectSpec.Fallback(3, 6, ScaledObjectSpec.FallbackBehavior.STATIC), 2));
        assertEquals(2, ScalingPolicy.fallbackReplicas(new ScaledObjectSpec.Fallback(3, 6, ScaledObjectSpec.FallbackBehavior.CURRENT_REPLICAS), 2));
        assertEquals(9, ScalingPolicy.fallbackReplicas(new ScaledObjectSpec.Fallback(3, 6, ScaledObjectSpec.FallbackBehavior.CURRENT_REPLICAS_IF_HIGHER), 9));
        assertEquals(6, ScalingPolicy.fallbackReplicas(new ScaledObjectSpec.Fallback(3, 6, ScaledObjectSpec.FallbackBehavior.CURRENT_REPLICAS_IF_HIGHER), 2));
        assertEquals(2, ScalingPolicy.fallbackReplicas(new ScaledObjectSpec.Fallback(3, 6, ScaledObjectSpec.FallbackBehavior.CURRENT_REPLICAS_IF_LOWER), 2));
        assertEquals(6, ScalingPolicy.fallbackReplicas(new ScaledObjectSpec.Fallback(3, 6, ScaledObjectSpec.FallbackBehavior.CURRENT_REPLICAS_IF_LOWER), 9));
    }

    /**
     * Whether an HPA should exist, and whether the object is held on invalid input, for every kind of decision: an
     * HPA stays at zero, through errors and cooldowns (KEDA keeps it); only a pause drops it; invalid input keeps
     * whatever exists (invalidInput).
     */
    @Test
    void everyDecisionSaysWhetherAnHpaShouldExist() throws Exception {
        record Row(String what, Decision decision, boolean hpaWanted, boolean invalidInput) {
        }
        TriggerOutcome idle = TriggerOutcome.measured(0, 0, false);
        TriggerOutcome busy = TriggerOutcome.measured(0, 500, true);
        for (Row row : List.of(
                new Row("activation", decide(spec("", ""), 0, null, busy), true, false),
                new Row("active, the HPA scales", decide(spec("", ""), 4, null, busy), true, false),
                new Row("scaled to zero", decide(spec("", ""), 1, null, idle), true, false),
                new Row("at zero", decide(spec("", ""), 0, null, idle), true, false),
                new Row("in cooldown", decide(spec("cooldownPeriod: 600", ""), 2, NOW.minusSeconds(30), idle), true, false),
                new Row("a trigger error", decide(spec("", ""), 3, null, TriggerOutcome.failed(0, 2, "down")), true, false),
                new Row("pending", decide(spec("", ""), 2, null,
                        new TriggerOutcome(0, "kafka", TriggerOutcome.State.PENDING, false, 0, 0, null)), true, false),
                new Row("paused", decide(spec("", "\"autoscaling.keda.sh/paused\": \"true\""), 3, null, idle), false, false),
                new Row("paused at 4", decide(spec("", "\"autoscaling.keda.sh/paused-replicas\": \"4\""), 1, null, busy),
                        false, false),
                new Row("bad paused-replicas", decide(spec("", "\"autoscaling.keda.sh/paused-replicas\": \"many\""), 1,
                        null, idle), false, true),
                new Row("an invalid trigger", decide(spec("", ""), 2, null,
                        new TriggerOutcome(0, "kafka", TriggerOutcome.State.INVALID, false, 0, 0, "bad")), false, true))) {
            assertEquals(row.hpaWanted(), row.decision().hpaWanted(), row.what() + ": hpaWanted");
            assertEquals(row.invalidInput(), row.decision().invalidInput(), row.what() + ": invalidInput");
        }
    }

    @Test
    void pausedHoldsTheCountAndDropsTheHpa() throws Exception {
        Decision d = decide(spec("", "\"autoscaling.keda.sh/paused\": \"true\""), 3, null, TriggerOutcome.measured(0, 0, false));
        assertEquals(3, d.replicas());
        assertFalse(d.scaleWrite());
        assertFalse(d.hpaWanted());
        assertEquals("True", d.conditions().get("Paused").status());
        Decision notPaused = decide(spec("", "\"autoscaling.keda.sh/paused\": \"false\""), 3, null, TriggerOutcome.measured(0, 0, false));
        assertEquals("False", notPaused.conditions().get("Paused").status());
    }

    @Test
    void pausedReplicasScalesToThatCount() throws Exception {
        Decision d = decide(spec("", "\"autoscaling.keda.sh/paused-replicas\": \"4\""), 1, null, TriggerOutcome.measured(0, 500, true));
        assertEquals(4, d.replicas());
        assertTrue(d.scaleWrite());
        Decision bad = decide(spec("", "\"autoscaling.keda.sh/paused-replicas\": \"many\""), 1, null, TriggerOutcome.measured(0, 0, false));
        assertFalse(bad.scaleWrite());
        assertEquals("False", bad.conditions().get("Ready").status());
    }

    @Test
    void directionPausesBlockOneDirection() throws Exception {
        Decision noScaleIn = decide(spec("", "\"autoscaling.keda.sh/paused-scale-in\": \"true\""), 2, null, TriggerOutcome.measured(0, 0, false));
        assertFalse(noScaleIn.scaleWrite());
        Decision noScaleOut = decide(spec("", "\"autoscaling.keda.sh/paused-scale-out\": \"true\""), 0, null, TriggerOutcome.measured(0, 9, true));
        assertFalse(noScaleOut.scaleWrite());
    }

    /** Go's strconv.ParseBool, as KEDA reads its annotations; what KEDA does with a value it cannot parse. */
    @Test
    void annotationBooleansParseAsKedaDoes() throws Exception {
        record Row(String value, boolean paused, boolean forced) {
        }
        for (Row row : List.of(new Row("true", true, true), new Row("1", true, true), new Row("T", true, true),
                new Row("TRUE", true, true), new Row("True", true, true), new Row("t", true, true),
                new Row("false", false, false), new Row("0", false, false), new Row("F", false, false),
                new Row("FALSE", false, false), new Row("f", false, false),
                // Unparsable: KEDA pauses (the user meant something) but does not force activation.
                new Row("yes", true, false), new Row("", true, false), new Row("tRuE", true, false))) {
            String quoted = "\"" + row.value() + "\"";
            Decision paused = decide(spec("", "\"autoscaling.keda.sh/paused\": " + quoted), 3, null,
                    TriggerOutcome.measured(0, 0, false));
            assertEquals(row.paused() ? "True" : "False", paused.conditions().get("Paused").status(), "paused " + quoted);
            Decision forced = decide(spec("", "\"autoscaling.keda.sh/force-activation\": " + quoted), 0, null,
                    TriggerOutcome.measured(0, 0, false));
            assertEquals(row.forced() ? 1 : 0, forced.replicas(), "force-activation " + quoted);
            Decision scaleIn = decide(spec("", "\"autoscaling.keda.sh/paused-scale-in\": " + quoted), 2, null,
                    TriggerOutcome.measured(0, 0, false));
            assertEquals(row.paused() ? 2 : 0, scaleIn.replicas(), "paused-scale-in " + quoted);
        }
    }

    @Test
    void forceActivationActivates() throws Exception {
        Decision d = decide(spec("", "\"autoscaling.keda.sh/force-activation\": \"true\""), 0, null, TriggerOutcome.measured(0, 0, false));
        assertEquals(1, d.replicas());
    }

    @Test
    void pendingTriggersHoldTheCount() throws Exception {
        Decision d = decide(spec("", ""), 2, null, new TriggerOutcome(0, "kafka", TriggerOutcome.State.PENDING, false, 0, 0, null));
        assertFalse(d.scaleWrite());
    }

    @Test
    void unsupportedAndInvalidTriggersAreNotReady() throws Exception {
        Decision unsupported = decide(spec("", ""), 2, null, new TriggerOutcome(0, "rabbitmq", TriggerOutcome.State.UNSUPPORTED, false, 0, 0, null));
        assertEquals("UnsupportedTrigger", unsupported.conditions().get("Ready").reason());
        assertFalse(unsupported.scaleWrite());
        Decision invalid = decide(spec("", ""), 2, null, new TriggerOutcome(0, "kafka", TriggerOutcome.State.INVALID, false, 0, 0, "lagThreshold must be a positive number, got 0"));
        assertTrue(invalid.conditions().get("Ready").message().contains("lagThreshold"));
    }

    @Test
    void onlyCpuWithMinZeroIsRejected() throws Exception {
        ScaledObjectSpec s = spec("triggers:\n- type: cpu\n  metricType: Utilization\n  metadata: {value: \"50\"}", "");
        Decision d = decide(s, 2, null, new TriggerOutcome(0, "cpu", TriggerOutcome.State.RESOURCE, false, 0, 0, null));
        assertEquals("ScaledObjectCheckFailed", d.conditions().get("Ready").reason());
        ScaledObjectSpec withMin = spec("minReplicaCount: 1\ntriggers:\n- type: cpu\n  metricType: Utilization\n  metadata: {value: \"50\"}", "");
        Decision ok = decide(withMin, 2, null, new TriggerOutcome(0, "cpu", TriggerOutcome.State.RESOURCE, false, 0, 0, null));
        assertEquals("True", ok.conditions().get("Ready").status());
        assertEquals("True", ok.conditions().get("Active").status(), "cpu/memory only: always active");
    }

    @Test
    void parserChecksWhatKedaChecks() {
        ScaledObjectInvalid minMax = assertThrows(ScaledObjectInvalid.class, () -> spec("minReplicaCount: 2\nmaxReplicaCount: 1", ""));
        assertEquals("MinReplicaCount=2 must be less than MaxReplicaCount=1", minMax.getMessage());
        ScaledObjectInvalid idle = assertThrows(ScaledObjectInvalid.class, () -> spec("minReplicaCount: 2\nidleReplicaCount: 2", ""));
        assertEquals("IdleReplicaCount=2 must be less than MinReplicaCount=2", idle.getMessage());
        assertThrows(ScaledObjectInvalid.class, () -> spec("fallback: {failureThreshold: 3, replicas: 1}\ntriggers:\n- type: cpu\n  metricType: Utilization\n  metadata: {value: \"50\"}", ""));
    }
}
