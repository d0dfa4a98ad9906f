package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Assertions on output lines. */
public final class Lines {
    private Lines() {}

    /**
     * Asserts that the trimmed lines contain, in this order (not necessarily adjacent), lines matching each regex
     * entirely. Returns the matcher of the last one.
     */
    public static Matcher assertInOrder(CliResult r, String... regexes) {
        List<String> lines = r.stdoutLines();
        int from = 0;
        Matcher last = null;
        for (String regex : regexes) {
            Pattern p = Pattern.compile(regex);
            boolean found = false;
            for (int i = from; i < lines.size(); i++) {
                Matcher m = p.matcher(lines.get(i).trim());
                if (m.matches()) {
                    from = i + 1;
                    last = m;
                    found = true;
                    break;
                }
            }
            if (!found) {
                fail("expected a line matching /" + regex + "/ (after the previous expected lines, in order: "
                        + List.of(regexes) + ") in " + r.describe());
            }
        }
        return last;
    }
}
