package dev.lagscaler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.cli.demo.DemoRun;
import dev.lagscaler.cli.demo.DemoSample;
import dev.lagscaler.cli.demo.LiveView;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The demo's story in its short profile, on its own broker and control plane: the Deployment goes 0 → ≥ 2 → 0, the
 * lag rises and drains to 0 through the consumers that follow it, the plot and the JSON exist, and the JSON agrees
 * with what the cluster saw (its Events and the Deployment's final replicas).
 */
@Tag("kafka")
@Tag("kubernetes")
class DemoTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theShortProfileGoesFromZeroToManyAndBackThroughRealConsumers() throws Exception {
        Path out = Files.createTempDirectory("lagscaler-demo-test-");
        StringWriter view = new StringWriter();
        List<String> story = new ArrayList<>();
        try (DemoRun run = new DemoRun(false)) {
            DemoRun.Result result = run.run(DemoRun.Profile.quick(), out, new LiveView(new PrintWriter(view), false), story::add);
            List<DemoSample> samples = result.samples();
            assertTrue(result.completed(), "back at zero with the backlog drained:\n" + view);
            assertEquals(0, samples.get(0).replicas(), "starts at zero");
            assertTrue(samples.stream().mapToInt(DemoSample::replicas).max().orElse(0) >= 2, "the HPA took it to 2 or more:\n" + view);
            assertEquals(0, samples.get(samples.size() - 1).replicas());
            assertTrue(samples.stream().mapToLong(DemoSample::lag).max().orElse(0) > 0, "lag rose");
            assertEquals(0, samples.get(samples.size() - 1).lag(), "and drained");
            assertTrue(result.consumed() >= result.produced(), "the consumers processed every record: " + result.consumed()
                    + " of " + result.produced());
            assertTrue(samples.stream().anyMatch(s -> s.consumers() >= 2), "consumers followed the replicas");

            JsonNode report = JSON.readTree(result.json().toFile());
            assertEquals(samples.size(), report.path("samples").size());
            String marks = report.path("marks").toString();
            assertTrue(marks.contains("activation") && marks.contains("scale-to-zero"), marks);
            BufferedImage png = ImageIO.read(result.png().toFile());
            assertEquals(1200, png.getWidth());
            // What the cluster saw: the operator's Events and the Deployment's replicas.
            String events = run.plane().kubectl("get", "events", "-n", DemoRun.NAMESPACE,
                    "-o", "jsonpath={.items[*].reason}");
            assertTrue(events.contains("KEDAScaleTargetActivated") && events.contains("KEDAScaleTargetDeactivated"), events);
            assertEquals("0", run.plane().kubectl("get", "deployment", "consumer-deployment",
                    "-o", "jsonpath={.spec.replicas}").trim());
            assertTrue(samples.size() < 120, "the short profile stays under two minutes: " + samples.size() + " s");
        }
    }
}
