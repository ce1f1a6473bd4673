using System.Text;
using System.Text.Json;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>
/// LLMRouter's preprocessed routing data (e.g. <c>dcrouter_preprocessed/train.json</c>): a JSON array of
/// <c>{"question": "...", "scores": {"model": 0.83, ...}}</c>. Other members (<c>cluster_id</c>) are ignored; a
/// null score is missing. The files carry no output lengths or costs.
/// </summary>
/// <remarks>
/// <see cref="Read"/> walks the array one element at a time with <see cref="Utf8JsonReader"/> over a growing buffer,
/// so a file of any size is read in memory proportional to its largest element. An element that is not a usable
/// object is skipped and reported; broken JSON ends the read with a failure naming the line, since nothing after it
/// can be trusted.
/// </remarks>
public static class LlmRouterJson
{
    private static readonly JsonReaderOptions ReaderOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads the array.</summary>
    public static HistoryDataset Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        using var bytes = new MemoryStream(Encoding.UTF8.GetBytes(reader.ReadToEnd()));
        return HistoryDatasets.Collect(Read(bytes));
    }

    /// <summary>Reads the array one element at a time. A record's <see cref="HistoryRecord.Line"/> is the line its
    /// element starts on; its issues are numbered by the element's 1-based position in the array.</summary>
    public static IEnumerable<HistoryRecord> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ReadElements(stream);
    }

    private static IEnumerable<HistoryRecord> ReadElements(Stream stream)
    {
        var buffer = new byte[64 * 1024];
        var start = 0;       // first byte not yet consumed
        var filled = 0;      // bytes in the buffer
        var counted = 0;     // newlines are counted in buffer[..counted]
        var line = 1;        // the line buffer[counted] is on
        var final = false;
        var inArray = false;
        var position = 0;
        var state = new JsonReaderState(ReaderOptions);
        var bomChecked = false;

        while (true)
        {
            var step = Next(buffer.AsSpan(start, filled - start), final, state, inArray);
            switch (step.Kind)
            {
                case StepKind.NeedMore:
                    // Keep the unconsumed bytes, grow when one element fills the buffer, and read on.
                    line += buffer.AsSpan(counted, start - counted).Count((byte)'\n');
                    Array.Copy(buffer, start, buffer, 0, filled - start);
                    filled -= start;
                    start = counted = 0;
                    if (filled == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    var read = stream.Read(buffer, filled, buffer.Length - filled);
                    filled += read;
                    final = read == 0;
                    if (!bomChecked && (filled >= 3 || final))
                    {
                        bomChecked = true;
                        if (buffer.AsSpan(0, filled).StartsWith(Encoding.UTF8.Preamble))
                        {
                            start = counted = 3;
                        }
                    }

                    if (final && filled - start == 0 && !inArray)
                    {
                        yield return HistoryRecord.Failed(1, "The file is empty; expected a JSON array of {\"question\", \"scores\"} objects.");
                        yield break;
                    }

                    continue;
                case StepKind.Error:
                    line += buffer.AsSpan(counted, start - counted).Count((byte)'\n');
                    var at = step.ErrorLine ?? line + step.ErrorLineOffset;
                    yield return HistoryRecord.Failed(at, $"Not JSON at line {at}: {step.Error}");
                    yield break;
                case StepKind.NotArray:
                    yield return HistoryRecord.Failed(1, "Expected a JSON array of {\"question\", \"scores\"} objects.");
                    yield break;
                case StepKind.ArrayStart:
                    inArray = true;
                    break;
                case StepKind.ArrayEnd:
                    yield break;
                case StepKind.Element:
                    var elementStart = start + step.ElementStart;
                    line += buffer.AsSpan(counted, elementStart - counted).Count((byte)'\n');
                    counted = elementStart;
                    position++;
                    yield return Record(buffer.AsMemory(elementStart, step.Consumed - step.ElementStart), position, line);
                    break;
            }

            start += step.Consumed;
            state = step.State;
        }
    }

    private static HistoryRecord Record(ReadOnlyMemory<byte> element, int position, int line)
    {
        var issues = new List<DatasetIssue>();
        using var document = JsonDocument.Parse(element, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        return new HistoryRecord(line, Entry(document.RootElement, position, issues), issues);
    }

    private static HistoryEntry? Entry(JsonElement element, int position, List<DatasetIssue> issues)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("question", out var question) || question.ValueKind != JsonValueKind.String)
        {
            issues.Add(new DatasetIssue(position, "no \"question\" string; skipped."));
            return null;
        }

        if (!element.TryGetProperty("scores", out var scores) || scores.ValueKind != JsonValueKind.Object)
        {
            issues.Add(new DatasetIssue(position, "no \"scores\" object; skipped."));
            return null;
        }

        var outcomes = new List<ModelOutcome>();
        foreach (var score in scores.EnumerateObject())
        {
            if (score.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (score.Value.ValueKind != JsonValueKind.Number)
            {
                issues.Add(new DatasetIssue(position, $"score of {score.Name} is not a number; left out."));
                continue;
            }

            if (HistoryDatasets.Score(score.Value.GetDouble(), score.Name, position, issues) is { } s)
            {
                outcomes.Add(new ModelOutcome(score.Name, s));
            }
        }

        if (outcomes.Count == 0)
        {
            issues.Add(new DatasetIssue(position, "no usable score; skipped."));
            return null;
        }

        return new HistoryEntry(question.GetString()!, outcomes);
    }

    private enum StepKind
    {
        NeedMore,
        NotArray,
        ArrayStart,
        Element,
        ArrayEnd,
        Error,
    }

    // What the next token (or the whole next element) of the array is; Consumed is relative to the span given.
    // ErrorLine is the reader's own (it carries line numbers in its state from the start of the file).
    private readonly record struct Step(StepKind Kind, int Consumed = 0, JsonReaderState State = default, int ElementStart = 0, string? Error = null, int ErrorLineOffset = 0, int? ErrorLine = null);

    private static Step Next(ReadOnlySpan<byte> data, bool final, JsonReaderState state, bool inArray)
    {
        var reader = new Utf8JsonReader(data, final, state);
        try
        {
            if (!reader.Read())
            {
                return final
                    ? new Step(StepKind.Error, Error: inArray ? "the file ends before the array is closed." : "the file has no JSON value.")
                    : new Step(StepKind.NeedMore);
            }

            if (!inArray)
            {
                return reader.TokenType == JsonTokenType.StartArray
                    ? new Step(StepKind.ArrayStart, (int)reader.BytesConsumed, reader.CurrentState)
                    : new Step(StepKind.NotArray);
            }

            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return new Step(StepKind.ArrayEnd, (int)reader.BytesConsumed, reader.CurrentState);
            }

            var elementStart = (int)reader.TokenStartIndex;
            if (!reader.TrySkip())
            {
                return final
                    ? new Step(StepKind.Error, Error: "the file ends inside an element.", ErrorLineOffset: data[..elementStart].Count((byte)'\n'))
                    : new Step(StepKind.NeedMore);
            }

            return new Step(StepKind.Element, (int)reader.BytesConsumed, reader.CurrentState, elementStart);
        }
        catch (JsonException e)
        {
            return new Step(StepKind.Error, Error: HistoryDatasets.JsonMessage(e.Message), ErrorLine: e.LineNumber is { } zeroBased ? (int)zeroBased + 1 : null);
        }
    }
}
