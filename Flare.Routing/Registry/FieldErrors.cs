namespace Flare.Routing.Registry;

/// <summary>Validation messages keyed by field name, in the shape ProblemDetails' <c>errors</c> uses.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    /// <summary>The first message for a field, or null; what a form shows under the field.</summary>
    public string? For(string field) => _errors.TryGetValue(field, out var list) ? list[0] : null;

    public IReadOnlyDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);

    public override string ToString() => string.Join("; ", _errors.SelectMany(kv => kv.Value.Select(m => $"{kv.Key}: {m}")));
}
