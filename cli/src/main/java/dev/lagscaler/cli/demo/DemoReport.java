package dev.lagscaler.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The demo's report: {@code demo-report.json} (every sample, and the activations and scale-to-zero moments found in
 * them) and {@code demo-report.png} (lag and replicas over time on one chart, with those moments marked).
 */
public final class DemoReport {
    /** A moment the replica count left or reached zero. */
    public record Mark(double seconds, String kind) {
    }

    private DemoReport() {
    }

    /** Activations (0 → ≥ 1) and scale-to-zero (≥ 1 → 0) in the replica series. */
    public static List<Mark> marks(List<DemoSample> samples) {
        List<Mark> marks = new ArrayList<>();
        for (int i = 1; i < samples.size(); i++) {
            int before = samples.get(i - 1).replicas();
            int now = samples.get(i).replicas();
            if (before == 0 && now > 0) {
                marks.add(new Mark(samples.get(i).seconds(), "activation"));
            } else if (before > 0 && now == 0) {
                marks.add(new Mark(samples.get(i).seconds(), "scale-to-zero"));
            }
        }
        return marks;
    }

    public static void write(Path json, Path png, Map<String, Object> profile, Map<String, Object> facts,
                             List<DemoSample> samples) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.putAll(facts);
        doc.put("profile", profile);
        doc.put("marks", marks(samples));
        doc.put("samples", samples);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
        System.setProperty("java.awt.headless", "true");
        ChartUtils.saveChartAsPNG(png.toFile(), chart(samples), 1200, 600);
    }

    private static JFreeChart chart(List<DemoSample> samples) {
        XYSeries lag = new XYSeries("lag (records)");
        XYSeries produced = new XYSeries("produced (records/s)");
        XYSeries replicas = new XYSeries("replicas");
        XYSeries consumers = new XYSeries("consumers running");
        for (DemoSample s : samples) {
            lag.add(s.seconds(), s.lag());
            produced.add(s.seconds(), s.producedPerSecond());
            replicas.add(s.seconds(), s.replicas());
            consumers.add(s.seconds(), s.consumers());
        }
        XYSeriesCollection records = new XYSeriesCollection();
        records.addSeries(lag);
        records.addSeries(produced);
        XYSeriesCollection pods = new XYSeriesCollection();
        pods.addSeries(replicas);
        pods.addSeries(consumers);

        NumberAxis time = new NumberAxis("seconds");
        NumberAxis recordsAxis = new NumberAxis("records");
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
        lines.setSeriesPaint(0, new Color(0xD62728));
        lines.setSeriesStroke(0, new BasicStroke(2.5f));
        lines.setSeriesPaint(1, new Color(0x999999));
        XYPlot plot = new XYPlot(records, time, recordsAxis, lines);
        NumberAxis replicaAxis = new NumberAxis("replicas");
        replicaAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        plot.setRangeAxis(1, replicaAxis);
        plot.setDataset(1, pods);
        plot.mapDatasetToRangeAxis(1, 1);
        XYStepRenderer steps = new XYStepRenderer();
        steps.setSeriesPaint(0, new Color(0x1F77B4));
        steps.setSeriesStroke(0, new BasicStroke(2.5f));
        steps.setSeriesPaint(1, new Color(0x2CA02C));
        steps.setSeriesStroke(1, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
        plot.setRenderer(1, steps);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        for (Mark m : marks(samples)) {
            ValueMarker marker = new ValueMarker(m.seconds());
            boolean activation = m.kind().equals("activation");
            marker.setPaint(activation ? new Color(0x2CA02C) : new Color(0x7F7F7F));
            marker.setStroke(new BasicStroke(1.5f));
            marker.setLabel(activation ? "activation 0→1" : "scale to zero");
            marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            // Activation labels to the right of the line, scale-to-zero labels to its left (it is near the end).
            marker.setLabelAnchor(activation ? RectangleAnchor.TOP_RIGHT : RectangleAnchor.TOP_LEFT);
            marker.setLabelTextAnchor(activation ? TextAnchor.TOP_LEFT : TextAnchor.TOP_RIGHT);
            plot.addDomainMarker(marker);
        }
        JFreeChart chart = new JFreeChart("lagscaler demo: lag and replicas", new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }
}
