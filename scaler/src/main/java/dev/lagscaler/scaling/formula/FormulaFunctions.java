package dev.lagscaler.scaling.formula;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.commons.jexl3.JexlEngine;
import org.apache.commons.jexl3.JexlScript;

/**
 * The functions a scalingModifiers formula may call, named as in expr-lang (KEDA's formula language): {@code min},
 * {@code max}, {@code abs}, {@code ceil}, {@code floor}, {@code round}, and over a list {@code count}, {@code all},
 * {@code any}, {@code none}. The only class of this package, so the formula engine's permissions can name it alone.
 */
public final class FormulaFunctions {
    private FormulaFunctions() {
    }

    public static double max(Number a, Number b) {
        return Math.max(a.doubleValue(), b.doubleValue());
    }

    public static double min(Number a, Number b) {
        return Math.min(a.doubleValue(), b.doubleValue());
    }

    public static double abs(Number a) {
        return Math.abs(a.doubleValue());
    }

    public static double ceil(Number a) {
        return Math.ceil(a.doubleValue());
    }

    public static double floor(Number a) {
        return Math.floor(a.doubleValue());
    }

    public static double round(Number a) {
        return Math.round(a.doubleValue());
    }

    /** How many items the predicate holds for: expr-lang's {@code count([a, b], {# > 1})}. */
    public static long count(Object list, JexlScript predicate) {
        return items(list).stream().filter(i -> holds(predicate, i)).count();
    }

    public static boolean all(Object list, JexlScript predicate) {
        return items(list).stream().allMatch(i -> holds(predicate, i));
    }

    public static boolean any(Object list, JexlScript predicate) {
        return items(list).stream().anyMatch(i -> holds(predicate, i));
    }

    public static boolean none(Object list, JexlScript predicate) {
        return items(list).stream().noneMatch(i -> holds(predicate, i));
    }

    private static boolean holds(JexlScript predicate, Object item) {
        return Boolean.TRUE.equals(predicate.execute(JexlEngine.EMPTY_CONTEXT, item));
    }

    /** A list literal arrives as a typed array (double[] for numbers) or a collection. */
    private static List<Object> items(Object list) {
        List<Object> items = new ArrayList<>();
        if (list instanceof Collection<?> c) {
            items.addAll(c);
        } else if (list != null && list.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(list); i++) {
                items.add(Array.get(list, i));
            }
        } else {
            throw new IllegalArgumentException("not a list: " + list);
        }
        return items;
    }
}
