package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A table the CLI printed (tabwriter: every column starts where its header starts). The header must be exactly the
 * given column names separated by spaces; cells are cut at the header's offsets and trimmed.
 */
public final class Table {
    private final List<String> columns;
    private final List<Map<String, String>> rows;
    private final List<String> rawRows;

    private Table(List<String> columns, List<Map<String, String>> rows, List<String> rawRows) {
        this.columns = columns;
        this.rows = rows;
        this.rawRows = rawRows;
    }

    public static Table parse(CliResult r, String... columns) {
        List<String> lines = r.stdoutLines().stream().filter(l -> !l.isBlank()).collect(Collectors.toList());
        if (lines.isEmpty()) {
            fail("no table at all in " + r.describe());
        }
        String header = lines.get(0);
        String headerRegex = List.of(columns).stream().map(Pattern::quote).collect(Collectors.joining("\\s+")) + "\\s*";
        assertTrue(header.matches(headerRegex), "header /" + headerRegex + "/ expected, got '" + header + "' in "
                + r.describe());
        int[] starts = new int[columns.length];
        int from = 0;
        for (int i = 0; i < columns.length; i++) {
            starts[i] = header.indexOf(columns[i], from);
            from = starts[i] + columns[i].length();
        }
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < columns.length; i++) {
                int s = Math.min(starts[i], line.length());
                int e = i + 1 < columns.length ? Math.min(starts[i + 1], line.length()) : line.length();
                row.put(columns[i], line.substring(s, e).trim());
            }
            rows.add(row);
        }
        return new Table(List.of(columns), rows, lines.subList(1, lines.size()));
    }

    public List<Map<String, String>> rows() {
        return rows;
    }

    public List<String> rawRows() {
        return rawRows;
    }

    public int size() {
        return rows.size();
    }

    public List<String> column(String name) {
        return rows.stream().map(r -> r.get(name)).collect(Collectors.toList());
    }

    /** Rows whose {@code column} equals {@code value}. */
    public List<Map<String, String>> where(String column, String value) {
        return rows.stream().filter(r -> value.equals(r.get(column))).collect(Collectors.toList());
    }

    @Override
    public String toString() {
        return columns + "\n" + String.join("\n", rawRows);
    }
}
