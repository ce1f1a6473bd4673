using Flare.Routing.Registry;

namespace Flare.Data.Registry;

/// <summary>How a registry operation ended; expected failures are values, not exceptions.</summary>
public enum OutcomeKind
{
    Ok,
    /// <summary>The input broke a rule; <see cref="Outcome{T}.Errors"/> says which field and why.</summary>
    Invalid,
    NotFound,
    /// <summary>The operation conflicts with what is stored (a duplicate name, a model still in use).</summary>
    Conflict,
}

/// <summary>The result of a registry operation, with warnings that do not block it.</summary>
public sealed record Outcome<T>
{
    public required OutcomeKind Kind { get; init; }
    public T? Value { get; init; }
    public FieldErrors Errors { get; init; } = new();
    public string? Message { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public bool IsOk => Kind == OutcomeKind.Ok;

    public static Outcome<T> Ok(T value, IReadOnlyList<string>? warnings = null) =>
        new() { Kind = OutcomeKind.Ok, Value = value, Warnings = warnings ?? [] };

    public static Outcome<T> Invalid(FieldErrors errors) =>
        new() { Kind = OutcomeKind.Invalid, Errors = errors, Message = "One or more fields are invalid." };

    public static Outcome<T> Invalid(string field, string message)
    {
        var errors = new FieldErrors();
        errors.Add(field, message);
        return Invalid(errors);
    }

    public static Outcome<T> NotFound(string message) => new() { Kind = OutcomeKind.NotFound, Message = message };

    public static Outcome<T> Conflict(string message, string? field = null)
    {
        var errors = new FieldErrors();
        if (field is not null)
        {
            errors.Add(field, message);
        }

        return new() { Kind = OutcomeKind.Conflict, Message = message, Errors = errors };
    }
}
