package dev.lagscaler.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * The fault suite's figures: each case writes what it measured under its own key in
 * {@code bench/results/reliability.json} (the README's reliability table is made from it). Cases of one run merge
 * into the file; a case run again replaces its own entry.
 */
public final class FaultFigures {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FaultFigures() {
    }

    /** The nearest-rank percentile {@code p} (0..1) of {@code values}: the figure the README quotes as p95. */
    public static long percentile(java.util.List<Long> values, double p) {
        java.util.List<Long> sorted = new java.util.ArrayList<>(values);
        sorted.sort(null);
        return sorted.get((int) Math.ceil(p * sorted.size()) - 1);
    }

    public static synchronized void record(String caseName, Map<String, ?> figures) {
        try {
            Path file = DevScripts.repoRoot().resolve("bench").resolve("results")
                    .resolve("reliability.json");
            Files.createDirectories(file.getParent());
            ObjectNode all = Files.isRegularFile(file) ? (ObjectNode) JSON.readTree(file.toFile()) : JSON.createObjectNode();
            ObjectNode entry = JSON.valueToTree(figures);
            entry.put("measured", Instant.now().toString());
            entry.put("cores", Runtime.getRuntime().availableProcessors());
            all.set(caseName, entry);
            JSON.writeValue(file.toFile(), all);
            System.out.println("[fault] " + caseName + ": " + JSON.writeValueAsString(figures).replace('\n', ' '));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("recording the figures of " + caseName, e);
        }
    }
}
