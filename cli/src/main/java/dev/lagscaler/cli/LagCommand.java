package dev.lagscaler.cli;

import dev.lagscaler.Durations;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.PartitionLag;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import dev.lagscaler.trigger.TriggerParseException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lagscaler lag}: a group's per-partition lag and the kafka trigger's metric, live from Kafka. */
@Command(name = "lag", mixinStandardHelpOptions = true,
        description = {"Shows a consumer group's per-partition lag and the metric a kafka trigger reports for it.", "",
                "Example:  lagscaler lag --bootstrap-server localhost:9092 --group my-group --topic events -m lagThreshold=50"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:measured", "1:Kafka could not be measured (the error is printed)", "2:bad input"})
final class LagCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-server", required = true, description = "Kafka bootstrap servers, host:port[,...].")
    String bootstrapServers;

    @Option(names = "--group", required = true, description = "The consumer group.")
    String group;

    @Option(names = "--topic", description = "The topic; without it, every topic the group has committed offsets for.")
    String topic;

    @Option(names = {"-m", "--metadata"}, description = "Other trigger metadata, e.g. -m lagThreshold=50.")
    Map<String, String> metadata = new HashMap<>();

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table, json or yaml (default ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--watch", description = "Repeat every --interval until interrupted.")
    boolean watch;

    @Option(names = "--interval", defaultValue = "5s", description = "Interval for --watch, e.g. 5s or 500ms (default ${DEFAULT-VALUE}).")
    String interval;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> trigger = new HashMap<>(metadata);
        trigger.put("bootstrapServers", bootstrapServers);
        trigger.put("consumerGroup", group);
        if (topic != null) {
            trigger.put("topic", topic);
        }
        KafkaTriggerSettings settings;
        Duration every;
        try {
            if (!Output.valid(output)) {
                throw new TriggerParseException("-o takes " + Output.NAMES + ", not " + output);
            }
            settings = KafkaTriggerParser.parse(TriggerInput.ofMetadata(trigger));
            every = Durations.parse("--interval", interval);
        } catch (TriggerParseException e) {
            err.println("lagscaler lag: " + e.getMessage());
            return LagscalerCli.EXIT_BAD_INPUT;
        }
        TriggerResult last = poll(settings, new TriggerKey("cli", group, 0), watch ? every : null,
                result -> Output.print(out, output, document(settings, result), (o, d) -> print(o, settings, result)));
        return last instanceof TriggerResult.Measured ? 0 : 1;
    }

    /** What to do with each poll's result; may fail (the demo runs kubectl there). */
    @FunctionalInterface
    interface ResultView {
        void show(TriggerResult result) throws Exception;
    }

    /**
     * Polls one trigger on an engine of its own and shows each result: once, or every {@code every} until
     * interrupted when it is not null. Returns the last result.
     */
    static TriggerResult poll(KafkaTriggerSettings settings, TriggerKey key, Duration every, ResultView view)
            throws Exception {
        AtomicReference<TriggerResult> latest = new AtomicReference<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults())) {
            engine.register(key, settings, Duration.ofDays(1), latest::set);
            do {
                engine.pollNow(settings.connection());
                view.show(latest.get());
                if (every != null) {
                    Thread.sleep(every.toMillis());
                }
            } while (every != null);
        }
        return latest.get();
    }

    /** The result as a document (-o json and yaml). */
    static com.fasterxml.jackson.databind.node.ObjectNode document(KafkaTriggerSettings settings, TriggerResult result) {
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        doc.put("metric", settings.metricName(0)).put("consumerGroup", settings.consumerGroup()).put("topic", settings.topic());
        if (result instanceof TriggerResult.Failed failed) {
            return doc.put("error", failed.error().toString());
        }
        LagResult lag = ((TriggerResult.Measured) result).lag();
        doc.put("totalLag", lag.rawTotalLag()).put("metricValue", lag.metricValue()).put("active", lag.active())
                .put("lagThreshold", settings.lagThreshold()).put("why", Explanation.of(settings, 0, lag));
        var partitions = doc.putArray("partitions");
        for (PartitionLag p : lag.partitions()) {
            partitions.addObject().put("topic", p.offsets().topic()).put("partition", p.offsets().partition())
                    .put("committed", p.offsets().hasCommitted() ? p.offsets().committed() : null)
                    .put("logEnd", p.offsets().hasLatest() ? p.offsets().latest() : null).put("lag", p.lag())
                    .put("rule", p.rule().name().toLowerCase().replace('_', '-'));
        }
        return doc;
    }

    static void print(PrintWriter out, KafkaTriggerSettings settings, TriggerResult result) {
        if (result instanceof TriggerResult.Failed failed) {
            out.println("error: " + failed.error());
            out.flush();
            return;
        }
        LagResult lag = ((TriggerResult.Measured) result).lag();
        out.printf("%-30s %9s %14s %14s %10s  %s%n", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "RULE");
        for (PartitionLag p : lag.partitions()) {
            out.printf("%-30s %9d %14s %14s %10d  %s%n", p.offsets().topic(), p.offsets().partition(),
                    p.offsets().hasCommitted() ? String.valueOf(p.offsets().committed()) : "-",
                    p.offsets().hasLatest() ? String.valueOf(p.offsets().latest()) : "-", p.lag(),
                    p.rule().name().toLowerCase().replace('_', '-'));
        }
        out.println(Explanation.of(settings, 0, lag));
        out.flush();
    }
}
