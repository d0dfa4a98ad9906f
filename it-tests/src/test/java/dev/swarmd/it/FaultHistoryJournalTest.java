package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.swarmd.it.history.Applied;
import dev.swarmd.it.history.HistoryChecker;
import dev.swarmd.it.history.HistoryRecorder;
import dev.swarmd.it.history.Journal;
import dev.swarmd.it.history.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/**
 * How {@link FaultHistoryTest} reads a journal, on lines as `swarmd audit --json` writes them (AuditJson): no engine,
 * no daemon.
 */
class FaultHistoryJournalTest {
    static final String A = "a1b2c3d4e5f6a7b8c9d0e1f2g";
    static final String B = "z9y8x7w6v5u4t3s2r1q0p9o8n";

    static String entry(long index, String type, String action, String id, String name, String actor, String reason) {
        return "{\"time\":\"2026-12-07T04:00:00.000000001Z\",\"index\":" + index + ",\"type\":\"" + type
                + "\",\"action\":\"" + action + "\",\"id\":\"" + id + "\",\"attributes\":{\"name\":\"" + name + "\"}"
                + (actor == null ? "" : ",\"cause\":{\"actor\":\"" + actor + "\",\"reason\":\"" + reason + "\"}")
                + ",\"persistenceId\":\"Service|" + id + "\",\"sequenceNr\":1}";
    }

    static List<JsonNode> parse(String... lines) throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String l : lines) {
            nodes.add(FaultHistoryTest.JSON.readTree(l));
        }
        return nodes;
    }

    @Test
    void eachServiceEventMovesItsVersionAndAClientsUpdateIsKnownByItsUserAgent() throws Exception {
        List<JsonNode> audit = parse(
                entry(10, "service", "create", A, "fh-a", "api 127.0.0.1 (Docker-Client/20.10.24+dfsg1 (linux))",
                        "POST /services/create"),
                entry(11, "container", "start", "f00", "fh-a.1.x", "agent n1: started", "started"),
                entry(12, "service", "create", B, "fh-b", "api 127.0.0.1 (Docker-Client/20.10.24+dfsg1 (linux))",
                        "POST /services/create"),
                entry(14, "service", "update", A, "fh-a", "api 127.0.0.1 (fault-history/r001-c2-0001)",
                        "POST /services/" + A + "/update"),
                entry(15, "service", "update", A, "fh-a", "orchestrator", "update completed"),
                entry(16, "service", "update", B, "fh-b", "api 127.0.0.1 (fault-history/r001-c1-0003)",
                        "POST /services/" + B + "/update"),
                entry(17, "service", "update", "other", "else", "api 127.0.0.1 (fault-history/r001-c1-0004)",
                        "POST /services/other/update"));

        Journal journal = FaultHistoryTest.journalOf(audit, Map.of("fh-a", A, "fh-b", B));

        assertEquals(Map.of(
                "fh-a", List.of(new Applied(null, 0, 10), new Applied("r001-c2-0001", 10, 14), new Applied(null, 14, 15)),
                "fh-b", List.of(new Applied(null, 0, 12), new Applied("r001-c1-0003", 12, 16))), journal.services());

        HistoryRecorder history = new HistoryRecorder();
        history.ok(history.invoke("c2", "fh-a", "r001-c2-0001", 10), OptionalLong.empty());
        history.failed(history.invoke("c1", "fh-a", "r001-c1-0002", 10));
        history.ok(history.invoke("c1", "fh-b", "r001-c1-0003", 12), OptionalLong.empty());
        Result result = HistoryChecker.check(history.ops(), journal);
        assertTrue(result.passed(), result::describe);
        assertEquals(new Result(List.of(), 2, 1, 0, 0, 3), result);
    }

    @Test
    void theHeadIsReadFromAuditVerify() {
        Matcher m = FaultHistoryTest.INTACT.matcher("journal intact: 1042 events checked (0 from before the chain), "
                + "head index 1042, head link 5f0c9a (12 ms)");
        assertTrue(m.matches());
        assertEquals(List.of("1042", "0", "1042", "5f0c9a"), List.of(m.group(1), m.group(2), m.group(3), m.group(4)));
    }
}
