using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Security;

/// <summary>
/// An administrator of the control plane. The password is kept only as a salted, iterated hash (ASP.NET
/// Core Identity's <c>PasswordHasher</c>, PBKDF2); failed sign-ins are counted for the lockout.
/// </summary>
public sealed class AdminUserEntity
{
    public int Id { get; set; }
    public string UserName { get; set; } = "";
    public string PasswordHash { get; set; } = "";

    /// <summary>Failed sign-ins since the last success or lockout.</summary>
    public int FailedSignIns { get; set; }

    /// <summary>Until when sign-in is refused, after too many failures.</summary>
    public DateTime? LockedUntilUtc { get; set; }

    public DateTime CreatedUtc { get; set; }
    public DateTime? LastSignInUtc { get; set; }
}

internal sealed class AdminUserConfiguration : IEntityTypeConfiguration<AdminUserEntity>
{
    public void Configure(EntityTypeBuilder<AdminUserEntity> b)
    {
        b.ToTable("AdminUsers");
        b.Property(x => x.UserName).HasMaxLength(100).IsRequired();
        b.Property(x => x.PasswordHash).HasMaxLength(400).IsRequired();
        b.HasIndex(x => x.UserName).IsUnique();
    }
}
