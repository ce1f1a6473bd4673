using System.Globalization;

namespace Flare.Routing.Profiles;

/// <summary>Why an imported row was not used.</summary>
public enum CsvIssueKind
{
    /// <summary>The row could not be read: wrong number of fields, a value that is not a number, out of range.</summary>
    Malformed,

    /// <summary>The row is well-formed but left out on purpose (the reason says why).</summary>
    Excluded,
}

/// <summary>One row of an imported CSV that was not turned into a sample.</summary>
/// <param name="LineNumber">1-based line in the file (the header is line 1).</param>
/// <param name="Kind">Malformed or excluded.</param>
/// <param name="Message">What is wrong, for the operator.</param>
/// <param name="Source">Which file, when an import reads more than one; null for the main file.</param>
public sealed record CsvRowIssue(int LineNumber, CsvIssueKind Kind, string Message, string? Source = null)
{
    public override string ToString() => $"{(Source is null ? "" : Source + " ")}line {LineNumber}: {Message}";
}

/// <summary>The samples read from a CSV, the rows that were not used, or — when the file as a whole cannot be
/// read (no header, a required column missing) — the reason.</summary>
/// <param name="Samples">One sample per usable row, in file order.</param>
/// <param name="Issues">Malformed and excluded rows, with line numbers.</param>
/// <param name="Failure">Set when nothing could be read; then there are no samples.</param>
public sealed record ProfileCsvImport(IReadOnlyList<ProfileSample> Samples, IReadOnlyList<CsvRowIssue> Issues, string? Failure = null)
{
    /// <summary>Rows that could not be read.</summary>
    public IEnumerable<CsvRowIssue> Malformed => Issues.Where(i => i.Kind == CsvIssueKind.Malformed);

    /// <summary>Rows left out on purpose.</summary>
    public IEnumerable<CsvRowIssue> Excluded => Issues.Where(i => i.Kind == CsvIssueKind.Excluded);

    internal static ProfileCsvImport Failed(string reason) => new([], [], reason);
}

/// <summary>Minimal RFC 4180 reading: comma-separated fields, double quotes around a field that holds commas,
/// "" for a quote inside one. A quoted field may not span lines. Blank lines are skipped.</summary>
internal static class CsvText
{
    public static IEnumerable<(int LineNumber, string[] Fields)> Rows(TextReader reader)
    {
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            yield return (number, Split(line));
        }
    }

    public static string[] Split(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (ch == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(ch);
            }
        }

        fields.Add(current.ToString().Trim());
        return [.. fields];
    }

    /// <summary>Column index by name (trimmed, case-insensitive); -1 when absent.</summary>
    public static Dictionary<string, int> Header(string[] fields)
    {
        var map = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < fields.Length; i++)
        {
            map.TryAdd(fields[i].Trim().TrimStart('\uFEFF'), i);
        }

        return map;
    }

    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public static bool TryWhole(string text, out int value)
    {
        value = 0;
        if (!TryNumber(text, out var d) || d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
        {
            return false;
        }

        value = (int)d;
        return true;
    }
}
