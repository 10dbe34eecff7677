package dev.lagscaler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** When a live HPA spec no longer says what ours wrote (an outside edit), and when the apiserver only filled it in. */
class HpaDriftTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OURS = """
            {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "c"}, "minReplicas": 1,
             "maxReplicas": 7, "metrics": [{"type": "External", "external": {"metric": {"name": "s0-kafka-t"},
             "target": {"type": "AverageValue", "averageValue": "1.5"}}}],
             "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}""";

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("the same spec", OURS, true),
                Arguments.of("quantities written back in another form", OURS.replace("\"1.5\"", "\"1500m\""), true),
                Arguments.of("the apiserver's behavior defaults under ours", OURS.replace("\"stabilizationWindowSeconds\": 60}",
                        "\"stabilizationWindowSeconds\": 60, \"selectPolicy\": \"Max\", \"policies\": [{\"type\": \"Percent\","
                                + " \"value\": 100, \"periodSeconds\": 15}]}, \"scaleUp\": {\"stabilizationWindowSeconds\": 0}"), true),
                Arguments.of("maxReplicas edited", OURS.replace("\"maxReplicas\": 7", "\"maxReplicas\": 99"), false),
                Arguments.of("a target edited", OURS.replace("\"1.5\"", "\"3\""), false),
                Arguments.of("a metric added", OURS.replace("\"metrics\": [", "\"metrics\": [{\"type\": \"Resource\","
                        + " \"resource\": {\"name\": \"cpu\", \"target\": {\"type\": \"Utilization\", \"averageUtilization\": 50}}},"), false),
                Arguments.of("the stabilization window edited", OURS.replace("\"stabilizationWindowSeconds\": 60",
                        "\"stabilizationWindowSeconds\": 0"), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void liveSpecHoldsOurs(String what, String live, boolean holds) throws Exception {
        assertEquals(holds, HpaDrift.holds(JSON.readTree(OURS), JSON.readTree(live)), what);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("addedBesideOurs")
    void aFieldAddedBesideOursIsDriftButADefaultIsNot(String what, String desired, String live, boolean holds) throws Exception {
        JsonNode d = JSON.readTree(desired);
        assertEquals(holds, HpaDrift.holds(d, JSON.readTree(live)), what);
    }

    static Stream<Arguments> addedBesideOurs() {
        String noBehavior = "{\"maxReplicas\": 3}";
        return Stream.of(
                Arguments.of("minReplicas defaulted", noBehavior, "{\"maxReplicas\": 3, \"minReplicas\": 1}", true),
                Arguments.of("behavior added by someone", noBehavior,
                        "{\"maxReplicas\": 3, \"behavior\": {\"scaleDown\": {\"selectPolicy\": \"Disabled\"}}}", false));
    }
}
