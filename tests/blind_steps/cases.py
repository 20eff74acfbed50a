"""Blind regression cases for nnderiv.symbolic.verify_steps; labels derived by hand."""

C, W, K, U = "correct", "wrong", "carried", "unjustified"


def case(name, task, *rows):
    claims = {n: e for n, e, _ in rows}
    expected = {n: l for n, _, l in rows}
    return {"name": name, "task": task, "claims": claims, "expected": expected}


# binary true forms
B4, B3, B2 = "-1/m", "-(1-y[i])/m", "-y[i]/m"
B1 = "-(1-y[i])/(m*(1-a[i]))"
B0 = "(1-y[i])/(m*(1-a[i])) - y[i]/(m*a[i])"
# multilabel true forms
L4, L3, L2 = "-1/m", "-(1-y[j,i])/m", "-y[j,i]/m"
L1 = "-(1-y[j,i])/(m*(1-a[j,i]))"
L0 = "(1-y[j,i])/(m*(1-a[j,i])) - y[j,i]/(m*a[j,i])"

CASES = [
    # ---------------- correct ----------------
    case(
        "b_full_standard",
        "binary",
        ("u4", B4, C),
        ("u3", B3, C),
        ("u2", B2, C),
        ("u1", B1, C),
        ("u0", B0, C),
    ),
    case("b_u0_common_denominator", "binary", ("u0", "(a[i]-y[i])/(m*a[i]*(1-a[i]))", C)),
    case(
        "b_expanded_forms",
        "binary",
        ("u3", "(y[i]-1)/m", C),
        ("u1", "(y[i]-1)/(m-m*a[i])", C),
        ("u0", "(a[i]-y[i])/(m*a[i]-m*a[i]**2)", C),
    ),
    case("b_decimals", "binary", ("u4", "-0.5*2/m", C), ("u2", "-y[i]*0.5*2/m", C)),
    case(
        "b_exp_log",
        "binary",
        ("u0", "(1-y[i])/(m*(1-exp(log(a[i])))) - y[i]/(m*exp(log(a[i])))", C),
    ),
    case("b_caret_powers", "binary", ("u1", "-(1-y[i])*m^-1*(1-a[i])^-1", C)),
    case(
        "b_u0_split_terms",
        "binary",
        ("u0", "1/(m*(1-a[i])) - y[i]/(m*(1-a[i])) - y[i]/(m*a[i])", C),
    ),
    case("b_top_u5_and_u0", "binary", ("u5", "1", C), ("u4", "-1/m", C), ("u0", B0, C)),
    case(
        "c_full",
        "multiclass",
        ("u3", "-1/m", C),
        ("u2", "-1/m", C),
        ("u1", "-y[j,i]/m", C),
        ("u0", "-y[j,i]/(m*a[j,i])", C),
    ),
    case("c_u0_only", "multiclass", ("u0", "-y[j,i]/(a[j,i]*m)", C)),
    case("c_reordered", "multiclass", ("u1", "y[j,i]*(-1/m)", C), ("u0", "-(y[j,i]/a[j,i])/m", C)),
    case("c_exp_log_m", "multiclass", ("u3", "-1/exp(log(m))", C), ("u1", "-y[j,i]*m**-1", C)),
    case(
        "l_full",
        "multilabel",
        ("u5", "1", C),
        ("u4", "-1/m", C),
        ("u3", "(y[j,i]-1)/m", C),
        ("u2", "-y[j,i]/m", C),
        ("u1", "(y[j,i]-1)/(m*(1-a[j,i]))", C),
        ("u0", "(a[j,i]-y[j,i])/(m*a[j,i]*(1-a[j,i]))", C),
    ),
    case(
        "l_partial_u1_u0",
        "multilabel",
        ("u1", L1, C),
        ("u0", "1/m*((1-y[j,i])/(1-a[j,i]) - y[j,i]/a[j,i])", C),
    ),
    case("l_scaled_fractions", "multilabel", ("u4", "-2/(2*m)", C), ("u2", "-(y[j,i]*2)/(m*2)", C)),
    case("l_top_u6", "multilabel", ("u6", "1", C), ("u5", "1", C), ("u0", L0, C)),
    # ---------------- buggy: binary ----------------
    case(
        "b_sign_u4_carried_all",
        "binary",
        ("u4", "1/m", W),
        ("u3", "(1-y[i])/m", K),
        ("u2", "y[i]/m", K),
        ("u1", "(1-y[i])/(m*(1-a[i]))", K),
        ("u0", "y[i]/(m*a[i]) - (1-y[i])/(m*(1-a[i]))", K),
    ),
    case(
        "b_sign_u4_then_right",
        "binary",
        ("u4", "1/m", W),
        ("u3", B3, U),
        ("u2", B2, U),
        ("u1", B1, C),
        ("u0", B0, C),
    ),
    case(
        "b_missing_1_over_m",
        "binary",
        ("u4", "-1", W),
        ("u3", "-(1-y[i])", K),
        ("u2", "-y[i]", K),
        ("u1", "-(1-y[i])/(1-a[i])", K),
        ("u0", "(1-y[i])/(1-a[i]) - y[i]/a[i]", K),
    ),
    case(
        "b_two_for_m_through_unwritten",
        "binary",
        ("u4", "-1/2", W),
        ("u3", "-(1-y[i])/2", K),
        ("u0", "(1-y[i])/(2*(1-a[i])) - y[i]/(2*a[i])", K),
    ),
    case("b_n_minus_1", "binary", ("u4", "-1/(n-1)", W), ("u2", "-y[i]/(n-1)", K)),
    case("b_m_minus_1_over_m", "binary", ("u4", "-(m-1)/m", W), ("u3", "-(1-y[i])*(m-1)/m", K)),
    case(
        "b_extra_factor_u3",
        "binary",
        ("u4", B4, C),
        ("u3", "-(1-y[i])/(m*(m-1))", W),
        ("u1", "-(1-y[i])/(m*(m-1)*(1-a[i]))", K),
    ),
    case("b_tiny_offset_u4_then_right", "binary", ("u4", "-1/m + 10**-30", W), ("u3", B3, U)),
    case("b_tiny_offset_u0", "binary", ("u0", "(a[i]-y[i])/(m*a[i]*(1-a[i])) + 10**-30", W)),
    case("b_forgot_u1_path", "binary", ("u2", B2, C), ("u1", B1, C), ("u0", "-y[i]/(m*a[i])", W)),
    case("b_forgot_u2_path_alone", "binary", ("u0", "(1-y[i])/(m*(1-a[i]))", W)),
    case(
        "b_sign_u1_carried",
        "binary",
        ("u3", B3, C),
        ("u1", "(1-y[i])/(m*(1-a[i]))", W),
        ("u0", "-(1-y[i])/(m*(1-a[i])) - y[i]/(m*a[i])", K),
    ),
    case(
        "b_sign_u0_forgot_minus",
        "binary",
        ("u1", B1, C),
        ("u0", "-(1-y[i])/(m*(1-a[i])) - y[i]/(m*a[i])", W),
    ),
    case(
        "b_divided_not_multiplied",
        "binary",
        ("u3", B3, C),
        ("u1", "-(1-y[i])*(1-a[i])/m", W),
        ("u0", "(1-y[i])*(1-a[i])/m - y[i]/(m*a[i])", K),
    ),
    case(
        "b_one_plus_a",
        "binary",
        ("u1", "-(1-y[i])/(m*(1+a[i]))", W),
        ("u0", "(1-y[i])/(m*(1+a[i])) - y[i]/(m*a[i])", K),
    ),
    case(
        "b_swapped_y",
        "binary",
        ("u3", "-y[i]/m", W),
        ("u2", "-(1-y[i])/m", W),
        ("u1", "-y[i]/(m*(1-a[i]))", K),
        ("u0", "y[i]/(m*(1-a[i])) - (1-y[i])/(m*a[i])", K),
    ),
    case(
        "b_readme_carried_through_unwritten_u1",
        "binary",
        ("u4", B4, C),
        ("u3", "-(1+y[i])/m", W),
        ("u2", B2, C),
        ("u0", "(1+y[i])/(m*(1-a[i])) - y[i]/(m*a[i])", K),
    ),
    case("b_right_u0_below_wrong_u3", "binary", ("u3", "-(1+y[i])/m", W), ("u0", B0, U)),
    case(
        "b_wrong_u3_then_other_wrong_u0",
        "binary",
        ("u3", "-(1+y[i])/m", W),
        ("u0", "-y[i]/(m*a[i])", W),
    ),
    case(
        "b_wrong_top_u5",
        "binary",
        ("u5", "-1", W),
        ("u4", "1/m", K),
        ("u0", "y[i]/(m*a[i]) - (1-y[i])/(m*(1-a[i]))", K),
    ),
    case(
        "b_sign_log_path_u0",
        "binary",
        ("u4", B4, C),
        ("u1", B1, C),
        ("u0", "(1-y[i])/(m*(1-a[i])) + y[i]/(m*a[i])", W),
    ),
    case("b_half_decimal", "binary", ("u4", "-0.5/m", W), ("u2", "-0.5*y[i]/m", K)),
    case(
        "b_log_left_in_u1_then_right_u0",
        "binary",
        ("u1", "-(1-y[i])*log(1-a[i])/m", W),
        ("u0", B0, U),
    ),
    case(
        "b_swapped_only_u2",
        "binary",
        ("u2", "-(1-y[i])/m", W),
        ("u0", "(1-y[i])/(m*(1-a[i])) - (1-y[i])/(m*a[i])", K),
    ),
    case("b_exp_instead_of_div", "binary", ("u0", "-y[i]*exp(a[i])/m", W)),
    # ---------------- buggy: multiclass ----------------
    case("c_divided_not_multiplied", "multiclass", ("u0", "-y[j,i]*a[j,i]/m", W)),
    case(
        "c_index_slip_carried",
        "multiclass",
        ("u1", "-y[i,j]/m", W),
        ("u0", "-y[i,j]/(m*a[j,i])", K),
    ),
    case("c_index_slip_u0_alone", "multiclass", ("u0", "-y[j,i]/(m*a[i,j])", W)),
    case(
        "c_sign_u3_all_carried",
        "multiclass",
        ("u3", "1/m", W),
        ("u2", "1/m", K),
        ("u1", "y[j,i]/m", K),
        ("u0", "y[j,i]/(m*a[j,i])", K),
    ),
    case(
        "c_unwritten_u1_carries", "multiclass", ("u2", "-2/m", W), ("u0", "-2*y[j,i]/(m*a[j,i])", K)
    ),
    case(
        "c_right_u0_below_wrong_u3", "multiclass", ("u3", "-1", W), ("u0", "-y[j,i]/(m*a[j,i])", U)
    ),
    case(
        "c_missing_1_over_m",
        "multiclass",
        ("u3", "-1", W),
        ("u2", "-1", K),
        ("u1", "-y[j,i]", K),
        ("u0", "-y[j,i]/a[j,i]", K),
    ),
    case("c_m_minus_1_over_m", "multiclass", ("u3", "-(m-1)/m", W), ("u1", "-(m-1)*y[j,i]/m", K)),
    case("c_tiny_offset_u0", "multiclass", ("u0", "-y[j,i]/(m*a[j,i]) + 10**-30", W)),
    case(
        "c_n_minus_1",
        "multiclass",
        ("u3", "-1/(n-1)", W),
        ("u2", "-1/(n-1)", K),
        ("u0", "-y[j,i]/((n-1)*a[j,i])", K),
    ),
    case("c_n_for_m_u1", "multiclass", ("u3", "-1/m", C), ("u1", "-y[j,i]/n", W)),
    case("c_forgot_y", "multiclass", ("u0", "-1/(m*a[j,i])", W)),
    case(
        "c_wrong_u2_right_u1",
        "multiclass",
        ("u2", "1/m", W),
        ("u1", "-y[j,i]/m", U),
        ("u0", "-y[j,i]/(m*a[j,i])", C),
    ),
    # ---------------- buggy: multilabel ----------------
    case(
        "l_wrong_u5",
        "multilabel",
        ("u5", "1/m", W),
        ("u4", "-1/m**2", K),
        ("u0", "(a[j,i]-y[j,i])/(m**2*a[j,i]*(1-a[j,i]))", K),
    ),
    case(
        "l_m_minus_1_mixed",
        "multilabel",
        ("u4", "-1/(m-1)", W),
        ("u3", "-(1-y[j,i])/(m-1)", K),
        ("u2", L2, U),
        ("u0", "(1-y[j,i])/((m-1)*(1-a[j,i])) - y[j,i]/(m*a[j,i])", K),
    ),
    case("l_index_slip_u2_then_right_u0", "multilabel", ("u2", "-y[i,j]/m", W), ("u0", L0, U)),
    case("l_index_slip_u0", "multilabel", ("u0", "(a[i,j]-y[j,i])/(m*a[j,i]*(1-a[j,i]))", W)),
    case(
        "l_two_for_m",
        "multilabel",
        ("u4", "-1/2", W),
        ("u3", "-(1-y[j,i])/2", K),
        ("u2", "-y[j,i]/2", K),
        ("u0", "(a[j,i]-y[j,i])/(2*a[j,i]*(1-a[j,i]))", K),
    ),
    case("l_forgot_path", "multilabel", ("u0", "(1-y[j,i])/(m*(1-a[j,i]))", W)),
    case(
        "l_divided_then_right_u0",
        "multilabel",
        ("u3", L3, C),
        ("u1", "(y[j,i]-1)*(1-a[j,i])/m", W),
        ("u0", L0, U),
    ),
    case(
        "l_tiny_offset_u3_carried",
        "multilabel",
        ("u3", "(y[j,i]-1)/m + 10**-30", W),
        ("u1", "(y[j,i]-1)/(m*(1-a[j,i])) + 10**-30/(1-a[j,i])", K),
    ),
    case(
        "l_extra_factor_u1",
        "multilabel",
        ("u1", "(y[j,i]-1)/(m*(m-1)*(1-a[j,i]))", W),
        ("u0", "(1-y[j,i])/(m*(m-1)*(1-a[j,i])) - y[j,i]/(m*a[j,i])", K),
    ),
    case("l_one_plus_a", "multilabel", ("u4", L4, C), ("u1", "-(1-y[j,i])/(m*(1+a[j,i]))", W)),
    case(
        "l_sign_u5",
        "multilabel",
        ("u5", "-1", W),
        ("u3", "(1-y[j,i])/m", K),
        ("u2", "y[j,i]/m", K),
        ("u0", "y[j,i]/(m*a[j,i]) - (1-y[j,i])/(m*(1-a[j,i]))", K),
    ),
]
