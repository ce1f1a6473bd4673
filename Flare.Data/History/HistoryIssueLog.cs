using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flare.Data.History;

/// <summary>
/// The issues of one import as <see cref="HistoryDatasetEntity.IssuesJson"/> holds them: row issues with their line
/// (the first <see cref="HistoryStore.MaxStoredIssues"/>; the rest counted), and notes about the whole file, each
/// with a key and a count so that a resumed import goes on counting.
/// </summary>
/// <remarks>JSON: <c>[{"line": 12, "message": "…"}, {"line": null, "message": "…", "key": "scoreless", "count": 3}]</c>.</remarks>
internal sealed class HistoryIssueLog
{
    private const string OmittedKey = "omitted";

    private readonly List<HistoryIssue> _rows = [];
    private readonly Dictionary<string, (Func<int, string> Message, int Count)> _notes = new(StringComparer.Ordinal);
    private readonly List<(string Key, string Message, int Count)> _storedNotes = [];

    public int Omitted { get; private set; }

    public int Count => _rows.Count;

    public static HistoryIssueLog Parse(string json)
    {
        var log = new HistoryIssueLog();
        if (string.IsNullOrWhiteSpace(json) || JsonNode.Parse(json) is not JsonArray items)
        {
            return log;
        }

        foreach (var item in items.OfType<JsonObject>())
        {
            var message = item["message"]?.GetValue<string>() ?? "";
            var key = item["key"]?.GetValue<string>();
            var count = item["count"]?.GetValue<int>() ?? 0;
            if (key == OmittedKey)
            {
                log.Omitted = count;
            }
            else if (key is not null)
            {
                log._storedNotes.Add((key, message, count));
            }
            else
            {
                log._rows.Add(new HistoryIssue(item["line"]?.GetValue<int>(), message));
            }
        }

        return log;
    }

    public void Add(int? line, string message)
    {
        if (_rows.Count < HistoryStore.MaxStoredIssues)
        {
            _rows.Add(new HistoryIssue(line, message));
        }
        else
        {
            Omitted++;
        }
    }

    /// <summary>Counts one more occurrence of a note about the whole file; <paramref name="message"/> gets the count.</summary>
    public void Note(string key, Func<int, string> message, int occurrences = 1)
    {
        var stored = _storedNotes.FindIndex(n => n.Key == key);
        var previous = 0;
        if (stored >= 0)
        {
            previous = _storedNotes[stored].Count;
            _storedNotes.RemoveAt(stored);
        }

        _notes[key] = (message, (_notes.TryGetValue(key, out var n) ? n.Count : previous) + occurrences);
    }

    public IReadOnlyList<HistoryIssue> Issues =>
        [.. Notes().Select(n => new HistoryIssue(null, n.Message)), .. _rows];

    public string ToJson()
    {
        var items = new JsonArray();
        foreach (var (key, message, count) in Notes())
        {
            items.Add(new JsonObject { ["line"] = null, ["message"] = message, ["key"] = key, ["count"] = count });
        }

        foreach (var row in _rows)
        {
            items.Add(new JsonObject { ["line"] = row.Line, ["message"] = row.Message });
        }

        if (Omitted > 0)
        {
            items.Add(new JsonObject
            {
                ["line"] = null,
                ["message"] = $"{Omitted:N0} more issue(s) not listed: the first {HistoryStore.MaxStoredIssues:N0} are kept.",
                ["key"] = OmittedKey,
                ["count"] = Omitted,
            });
        }

        return items.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private IEnumerable<(string Key, string Message, int Count)> Notes() =>
        _storedNotes.Concat(_notes.Select(n => (n.Key, n.Value.Message(n.Value.Count), n.Value.Count)));
}
