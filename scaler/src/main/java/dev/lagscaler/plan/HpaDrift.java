package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a live HPA's spec still says what ours wrote: every field of the desired spec is there with the same value
 * (quantities compared by value: the apiserver may write "1.5" back as "1500m"), and nothing was added at the top
 * but what the apiserver defaults itself. Fields the apiserver fills in under ours (a behavior's default policies)
 * are no drift; an outside edit of anything we set, or a field added beside ours, is.
 */
public final class HpaDrift {
    /** Top-level spec fields the apiserver sets when absent. */
    private static final Set<String> DEFAULTED = Set.of("minReplicas", "metrics");
    private static final Pattern QUANTITY = Pattern.compile("([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?");

    private HpaDrift() {
    }

    /** Whether {@code live} still holds {@code desired} (see the class comment). */
    public static boolean holds(JsonNode desired, JsonNode live) {
        if (live == null || !live.isObject()) {
            return false;
        }
        for (Iterator<String> names = live.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!desired.has(name) && !DEFAULTED.contains(name)) {
                return false;
            }
        }
        return covers(desired, live);
    }

    private static boolean covers(JsonNode desired, JsonNode live) {
        if (desired.isObject()) {
            if (!live.isObject()) {
                return false;
            }
            for (Iterator<String> names = desired.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!live.has(name) || !covers(desired.get(name), live.get(name))) {
                    return false;
                }
            }
            return true;
        }
        if (desired.isArray()) {
            if (!live.isArray() || live.size() != desired.size()) {
                return false;
            }
            for (int i = 0; i < desired.size(); i++) {
                if (!covers(desired.get(i), live.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (desired.isNumber() && live.isNumber()) {
            return desired.decimalValue().compareTo(live.decimalValue()) == 0;
        }
        String a = desired.asText();
        String b = live.asText();
        if (a.equals(b)) {
            return true;
        }
        BigDecimal qa = quantity(a);
        BigDecimal qb = quantity(b);
        return qa != null && qb != null && qa.compareTo(qb) == 0;
    }

    /** A Kubernetes quantity's value, or null when the text is not one. */
    static BigDecimal quantity(String text) {
        Matcher m = QUANTITY.matcher(text);
        if (!m.matches()) {
            return null;
        }
        BigDecimal number;
        try {
            number = new BigDecimal(m.group(1));
        } catch (NumberFormatException e) {
            return null;
        }
        String suffix = m.group(2);
        if (suffix == null) {
            return number;
        }
        return switch (suffix) {
            case "m" -> number.movePointLeft(3);
            case "k" -> number.movePointRight(3);
            case "M" -> number.movePointRight(6);
            case "G" -> number.movePointRight(9);
            case "T" -> number.movePointRight(12);
            case "P" -> number.movePointRight(15);
            case "E" -> number.movePointRight(18);
            default -> number.multiply(BigDecimal.valueOf(2).pow(10 * ("KMGTPE".indexOf(suffix.charAt(0)) + 1)));
        };
    }
}
