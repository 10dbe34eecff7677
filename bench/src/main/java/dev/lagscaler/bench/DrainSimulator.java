package dev.lagscaler.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lagscaler.lag.CommitWindow;
import dev.lagscaler.lag.ConsumerHealth;
import dev.lagscaler.lag.LagArithmetic;
import dev.lagscaler.lag.LagResult;
import dev.lagscaler.lag.PartitionOffsets;
import dev.lagscaler.lag.PersistentLagMemory;
import dev.lagscaler.lag.TimeLag;
import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.plan.PlanInput;
import dev.lagscaler.plan.ReconcilePlanner;
import dev.lagscaler.plan.ResolvedTrigger;
import dev.lagscaler.plan.TriggerHealth;
import dev.lagscaler.plan.TriggerType;
import dev.lagscaler.plan.Triggers;
import dev.lagscaler.scaling.ScaledObjectParser;
import dev.lagscaler.scaling.ScaledObjectSpec;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Replays traffic profiles through the operator's own planning code ({@link ReconcilePlanner} fed by a real
 * {@link CommitWindow}) with a model of the rest: a Kubernetes HPA (15 s sync, 10% tolerance, scale-up at most
 * doubling or +4 per sync, 300 s scale-down stabilization) and consumers (each replica commits up to a fixed rate
 * once it has started, 20 s after the Deployment asks for it; no more consumers than partitions). It compares the
 * lag-threshold policy (KEDA's) with drainWithinSeconds: replica-hours used and the wait records suffered.
 * Writes {@code bench/results/drain-time.md} and one PNG per profile.
 */
public final class DrainSimulator {
    static final int PARTITIONS = 24;
    static final double PER_REPLICA = 100;      // records a second one consumer commits
    static final long DRAIN_WITHIN = 60;        // seconds
    static final long THRESHOLD = (long) (PER_REPLICA * DRAIN_WITHIN); // the lag one replica clears in 60 s
    static final int POLL_SECONDS = 10;
    static final int HPA_SYNC_SECONDS = 15;
    static final int STARTUP_SECONDS = 20;
    static final int SCALE_DOWN_WINDOW_SECONDS = 300;
    static final int MAX_REPLICAS = 40;
    static final int SECONDS = 2 * 3600;

    /** A traffic profile: records a second produced at second t. */
    record Profile(String name, String description, DoubleUnaryOperator rate) {
    }

    /** One run's series (one point a second) and totals. */
    record Run(String policy, double[] backlog, int[] replicas, double replicaSeconds, double recordSecondsWaited,
               double produced, double maxBacklog, double secondsOverTarget) {
        double meanWaitSeconds() {
            return recordSecondsWaited / produced;
        }
    }

    public static void main(String[] args) throws Exception {
        List<Profile> profiles = List.of(
                new Profile("steady", "1,000 records/s all along", t -> 1000),
                new Profile("diurnal", "200 to 2,000 records/s and back, a one-hour \"day\" twice",
                        t -> 200 + 1800 * (1 - Math.cos(2 * Math.PI * t / 3600)) / 2),
                new Profile("bursty", "300 records/s with a 60 s burst of 3,000 records/s every 15 minutes",
                        t -> (t % 900) >= 300 && (t % 900) < 360 ? 3000 : 300));
        Path out = Path.of(args.length > 0 ? args[0] : "bench/results");
        Files.createDirectories(out);
        StringBuilder md = new StringBuilder();
        md.append("# Drain-time scaling vs the lag threshold (simulated)\n\n")
                .append("`bench/drain-simulator.sh` replays each traffic profile for ").append(SECONDS / 3600)
                .append(" hours through the operator's planning code (`ReconcilePlanner`, fed by a real `CommitWindow`")
                .append(" as the poller feeds it, polled every ").append(POLL_SECONDS).append(" s) with a model of the HPA (")
                .append(HPA_SYNC_SECONDS).append(" s sync, 10% tolerance, scale-up at most x2 or +4 per sync, ")
                .append(SCALE_DOWN_WINDOW_SECONDS).append(" s scale-down stabilization) and of the consumers (")
                .append((int) PER_REPLICA).append(" records/s each, ").append(STARTUP_SECONDS)
                .append(" s to start, ").append(PARTITIONS).append(" partitions, max ").append(MAX_REPLICAS)
                .append(" replicas, min 1).\n\n")
                .append("- **threshold**: KEDA's policy, `lagThreshold: ").append(THRESHOLD).append("` (what one replica")
                .append(" clears in ").append(DRAIN_WITHIN).append(" s).\n")
                .append("- **drain**: `drainWithinSeconds: ").append(DRAIN_WITHIN).append("`, same lagThreshold (used until")
                .append(" a busy replica's rate is measured).\n\n")
                .append("Replica-hours count every replica the Deployment asks for (starting ones too). Mean wait: total")
                .append(" record-seconds spent waiting / records produced. Over target: seconds during which the backlog")
                .append(" was more than the replicas running could clear in ").append(DRAIN_WITHIN).append(" s.\n\n")
                .append("| profile | policy | replica-hours | mean wait (s) | max backlog (records) | over target (s) |\n")
                .append("|---|---|---|---|---|---|\n");
        for (Profile profile : profiles) {
            Run threshold = run(profile, false);
            Run drain = run(profile, true);
            for (Run r : List.of(threshold, drain)) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.1f | %,.0f | %,.0f |%n", profile.name(), r.policy(),
                        r.replicaSeconds() / 3600, r.meanWaitSeconds(), r.maxBacklog(), r.secondsOverTarget()));
            }
            Path png = out.resolve("drain-" + profile.name() + ".png");
            System.setProperty("java.awt.headless", "true");
            ChartUtils.saveChartAsPNG(png.toFile(), chart(profile, threshold, drain), 1200, 800);
            System.out.printf(Locale.ROOT, "%s: threshold %.2f replica-h, wait %.1f s; drain %.2f replica-h, wait %.1f s%n",
                    profile.name(), threshold.replicaSeconds() / 3600, threshold.meanWaitSeconds(),
                    drain.replicaSeconds() / 3600, drain.meanWaitSeconds());
        }
        md.append("\nProfiles: ");
        for (Profile p : profiles) {
            md.append("*").append(p.name()).append("*: ").append(p.description()).append("; ");
        }
        md.setLength(md.length() - 2);
        md.append(".\n\nPlots: ");
        for (Profile p : profiles) {
            md.append("[").append(p.name()).append("](drain-").append(p.name()).append(".png) ");
        }
        md.append("\n");
        Files.writeString(out.resolve("drain-time.md"), md.toString());
        System.out.println("wrote " + out.resolve("drain-time.md"));
    }

    static Run run(Profile profile, boolean drain) throws Exception {
        ScaledObjectSpec spec = spec(drain);
        List<ResolvedTrigger> triggers = Triggers.resolveAll(spec, TriggerType.Context.of(Map.of(), Map.of()));
        var settings = ((ResolvedTrigger.Kafka) triggers.get(0)).settings();
        CommitWindow window = new CommitWindow(ConsumerHealth.Settings.DEFAULTS);
        double[] produced = new double[PARTITIONS];
        double[] committed = new double[PARTITIONS];
        double[] backlogSeries = new double[SECONDS];
        int[] replicaSeries = new int[SECONDS];
        Deque<int[]> downRecommendations = new ArrayDeque<>(); // {second, replicas}
        List<Integer> startedAt = new ArrayList<>();             // the second each replica was asked for
        startedAt.add(-STARTUP_SECONDS);
        JsonNode status = new ObjectMapper().createObjectNode();
        Long servedMilli = null;
        double replicaSeconds = 0;
        double waited = 0;
        double total = 0;
        double maxBacklog = 0;
        double over = 0;
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        for (int t = 0; t < SECONDS; t++) {
            double arriving = profile.rate().applyAsDouble(t);
            total += arriving;
            for (int p = 0; p < PARTITIONS; p++) {
                produced[p] += arriving / PARTITIONS;
            }
            int running = 0;
            for (int asked : startedAt) {
                running += t - asked >= STARTUP_SECONDS ? 1 : 0;
            }
            // Each running consumer takes whole partitions; more consumers than partitions idle.
            double capacityPerPartition = Math.min(running, PARTITIONS) * PER_REPLICA / PARTITIONS;
            double backlog = 0;
            for (int p = 0; p < PARTITIONS; p++) {
                committed[p] = Math.min(produced[p], committed[p] + capacityPerPartition);
                backlog += produced[p] - committed[p];
            }
            int replicas = startedAt.size();
            backlogSeries[t] = backlog;
            replicaSeries[t] = replicas;
            replicaSeconds += replicas;
            waited += backlog;
            maxBacklog = Math.max(maxBacklog, backlog);
            over += backlog > Math.min(running, PARTITIONS) * PER_REPLICA * DRAIN_WITHIN ? 1 : 0;

            if (t % POLL_SECONDS == 0) {
                List<PartitionOffsets> offsets = new ArrayList<>();
                long now = start.plusSeconds(t).toEpochMilli();
                for (int p = 0; p < PARTITIONS; p++) {
                    long end = (long) produced[p];
                    long done = Math.min(end, (long) committed[p]);
                    offsets.add(new PartitionOffsets("events", p, done, end));
                    window.record(settings.consumerGroup(), offsets.get(p).key(), done, end - done, now);
                }
                LagResult lag = LagArithmetic.compute(settings, offsets, PersistentLagMemory.EMPTY);
                ConsumerHealth health = window.judge(settings.consumerGroup(), lag.partitions(), now);
                TriggerResult.Measured measured = new TriggerResult.Measured(new TriggerKey("sim", "so", 0),
                        start.plusSeconds(t), lag, TimeLag.UNKNOWN, health);
                Plan plan = ReconcilePlanner.plan(new PlanInput(spec, "uid", status, replicas, null, triggers,
                        Map.of(0, new TriggerHealth(measured, 0)), Duration.ofSeconds(1), start.plusSeconds(t)));
                if (plan.status() != null) {
                    status = plan.status();
                }
                servedMilli = plan.metrics().get(0).valueMilli();
            }
            if (t % HPA_SYNC_SECONDS == 0 && servedMilli != null) {
                int desired = hpa(servedMilli, replicas, t, downRecommendations);
                while (startedAt.size() < desired) {
                    startedAt.add(t);
                }
                while (startedAt.size() > desired) {
                    startedAt.remove(startedAt.size() - 1); // the newest goes first
                }
            }
        }
        return new Run(drain ? "drain" : "threshold", backlogSeries, replicaSeries, replicaSeconds, waited, total,
                maxBacklog, over);
    }

    /** The HPA's arithmetic for an AverageValue target, with its default behaviour. */
    static int hpa(long servedMilli, int current, int t, Deque<int[]> recommendations) {
        double ratio = servedMilli / 1000.0 / current / THRESHOLD;
        int wanted = Math.abs(ratio - 1) <= 0.1 ? current : (int) Math.ceil(servedMilli / 1000.0 / THRESHOLD);
        wanted = Math.max(1, Math.min(MAX_REPLICAS, wanted));
        recommendations.addLast(new int[]{t, wanted});
        while (recommendations.peekFirst()[0] < t - SCALE_DOWN_WINDOW_SECONDS) {
            recommendations.removeFirst();
        }
        // Kubernetes' stabilization: up to the lowest recommendation of the (empty) up window, down only to the
        // highest of the down window; then the scale-up policy's limit.
        int down = wanted;
        for (int[] r : recommendations) {
            down = Math.max(down, r[1]);
        }
        int result = current;
        if (result < wanted) {
            result = wanted;
        }
        if (result > down) {
            result = down;
        }
        if (result > current) {
            result = Math.min(result, Math.max(current * 2, current + 4));
        }
        return result;
    }

    static ScaledObjectSpec spec(boolean drain) throws Exception {
        ObjectNode so = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: so, namespace: sim, creationTimestamp: "2026-01-01T00:00:00Z"}
                spec:
                  scaleTargetRef: {name: consumer}
                  pollingInterval: %d
                  minReplicaCount: 1
                  maxReplicaCount: %d
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "sim:9092", consumerGroup: sim, topic: events, lagThreshold: "%d"%s}
                """.formatted(POLL_SECONDS, MAX_REPLICAS, THRESHOLD, drain ? ", drainWithinSeconds: \"" + DRAIN_WITHIN + "\"" : ""));
        return ScaledObjectParser.parse(so);
    }

    static JFreeChart chart(Profile profile, Run threshold, Run drain) {
        XYSeries rate = new XYSeries("records/s produced");
        XYSeries[] backlog = {new XYSeries("backlog, threshold"), new XYSeries("backlog, drain")};
        XYSeries[] replicas = {new XYSeries("replicas, threshold"), new XYSeries("replicas, drain")};
        Run[] runs = {threshold, drain};
        for (int t = 0; t < SECONDS; t += 10) {
            double minutes = t / 60.0;
            rate.add(minutes, profile.rate().applyAsDouble(t));
            for (int i = 0; i < 2; i++) {
                backlog[i].add(minutes, runs[i].backlog()[t]);
                replicas[i].add(minutes, runs[i].replicas()[t]);
            }
        }
        Color[] colors = {new Color(0xD6, 0x60, 0x4D), new Color(0x2B, 0x83, 0xBA)};
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("minutes"));
        plot.add(subplot("records/s", new XYSeriesCollection(rate), new XYLineAndShapeRenderer(true, false),
                new Color[]{Color.DARK_GRAY}), 1);
        XYSeriesCollection backlogs = new XYSeriesCollection();
        XYSeriesCollection counts = new XYSeriesCollection();
        for (int i = 0; i < 2; i++) {
            backlogs.addSeries(backlog[i]);
            counts.addSeries(replicas[i]);
        }
        plot.add(subplot("backlog (records)", backlogs, new XYLineAndShapeRenderer(true, false), colors), 2);
        plot.add(subplot("replicas", counts, new XYStepRenderer(), colors), 2);
        return new JFreeChart(String.format(Locale.ROOT, "%s: %s — threshold %.1f replica-h, mean wait %.1f s; drain %.1f"
                        + " replica-h, mean wait %.1f s", profile.name(), profile.description(), threshold.replicaSeconds() / 3600,
                threshold.meanWaitSeconds(), drain.replicaSeconds() / 3600, drain.meanWaitSeconds()),
                new Font(Font.SANS_SERIF, Font.BOLD, 13), plot, true);
    }

    private static XYPlot subplot(String label, XYSeriesCollection data, XYLineAndShapeRenderer renderer, Color[] colors) {
        for (int i = 0; i < colors.length; i++) {
            renderer.setSeriesPaint(i, colors[i]);
            renderer.setSeriesStroke(i, new BasicStroke(1.6f));
        }
        XYPlot plot = new XYPlot(data, null, new NumberAxis(label), renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }
}
