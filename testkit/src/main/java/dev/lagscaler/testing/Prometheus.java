package dev.lagscaler.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Prometheus server as a child process (Debian's package, unpacked by {@code dev/prometheus-binary.sh}),
 * scraping the given targets every second and evaluating the given rule files, with its HTTP query API.
 */
public final class Prometheus implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path directory;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();

    private Prometheus(Process process, Path directory, int port) {
        this.process = process;
        this.directory = directory;
        this.port = port;
    }

    /** The folder holding prometheus and promtool. */
    public static Path binaries() throws IOException {
        return Path.of(DevScripts.run("prometheus-binary.sh", Duration.ofMinutes(10)));
    }

    /** {@code promtool check rules}: returns its output, or throws with it when the rules do not check. */
    public static String checkRules(Path rules) throws IOException {
        Path log = Files.createTempFile("promtool-", ".log");
        try {
            ChildProcess.run(List.of(binaries().resolve("promtool").toString(), "check", "rules", rules.toString()),
                    rules.getParent(), log, Duration.ofSeconds(60));
            return Files.readString(log);
        } catch (IOException e) {
            throw new IOException("promtool check rules " + rules + " failed:\n" + ChildProcess.tail(log, 40), e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * Starts a server scraping {@code targets} ({@code host:port}, path /metrics) every second, as the chart's
     * ServiceMonitor has Prometheus scrape them on a cluster: the target carries its pod's namespace label, the
     * series' own namespace label is honoured, and copied into exported_namespace (where KEDA's dashboard reads it).
     */
    public static Prometheus start(List<String> targets, List<Path> ruleFiles) throws IOException {
        Path dir = Files.createTempDirectory("lagscaler-prometheus-");
        StringBuilder config = new StringBuilder("""
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                - job_name: lagscaler
                  honor_labels: true
                  static_configs:
                  - targets: [%s]
                    labels: {namespace: lagscaler}
                  metric_relabel_configs:
                  - {source_labels: [namespace], target_label: exported_namespace}
                """.formatted(String.join(", ", targets.stream().map(t -> "'" + t + "'").toList())));
        if (!ruleFiles.isEmpty()) {
            config.append("rule_files:\n");
            ruleFiles.forEach(f -> config.append("- '").append(f.toAbsolutePath()).append("'\n"));
        }
        Files.writeString(dir.resolve("prometheus.yml"), config);
        int port = ChildProcess.freePort();
        List<String> command = new ArrayList<>(List.of(binaries().resolve("prometheus").toString(),
                "--config.file=" + dir.resolve("prometheus.yml"), "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port, "--log.level=warn"));
        Process process = ChildProcess.start(command, dir, dir.resolve("prometheus.log"));
        Prometheus prometheus = new Prometheus(process, dir, port);
        try {
            ChildProcess.await("Prometheus ready", Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
                if (!process.isAlive()) {
                    throw new IOException("prometheus exited:\n" + ChildProcess.tail(dir.resolve("prometheus.log"), 30));
                }
                return prometheus.get("/-/ready").statusCode() == 200;
            });
        } catch (IOException | RuntimeException e) {
            prometheus.close();
            throw e;
        }
        return prometheus;
    }

    /** An instant query through /api/v1/query: the whole answer ({@code status}, {@code data.result}, {@code error}). */
    public JsonNode query(String promql) throws IOException {
        HttpResponse<String> response = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        return JSON.readTree(response.body());
    }

    /** The server's rules and their state, from /api/v1/rules. */
    public JsonNode rules() throws IOException {
        return JSON.readTree(get("/api/v1/rules").body());
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    private HttpResponse<String> get(String path) throws IOException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.net.ConnectException e) {
            throw new IOException("prometheus not listening on " + port, e);
        }
    }

    @Override
    public void close() {
        ChildProcess.stop(process, Duration.ofSeconds(10));
        ChildProcess.deleteRecursively(directory);
    }
}
