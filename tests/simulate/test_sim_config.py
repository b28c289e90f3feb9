"""The bundled taxonomy and routing policy load, cover banking77, and fail loudly when broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierlens.config import (
    INTENTS_PATH,
    ROUTING_POLICY_PATH,
    check_policy_covers,
    load_intents,
    load_routing_policy,
)
from tierlens.errors import ConfigError

BANKING77 = ["card_arrival", "card_linking", "exchange_rate", "card_payment_wrong_exchange_rate", "extra_charge_on_statement", "pending_cash_withdrawal", "fiat_currency_support", "card_delivery_estimate", "automatic_top_up", "card_not_working", "exchange_via_app", "lost_or_stolen_card", "age_limit", "pin_blocked", "contactless_not_working", "top_up_by_bank_transfer_charge", "pending_top_up", "cancel_transfer", "top_up_limits", "wrong_amount_of_cash_received", "card_payment_fee_charged", "transfer_not_received_by_recipient", "supported_cards_and_currencies", "getting_virtual_card", "card_acceptance", "top_up_reverted", "balance_not_updated_after_cheque_or_cash_deposit", "card_payment_not_recognised", "edit_personal_details", "why_verify_identity", "unable_to_verify_identity", "get_physical_card", "visa_or_mastercard", "topping_up_by_card", "disposable_card_limits", "compromised_card", "atm_support", "direct_debit_payment_not_recognised", "passcode_forgotten", "declined_cash_withdrawal", "pending_card_payment", "lost_or_stolen_phone", "request_refund", "declined_transfer", "Refund_not_showing_up", "declined_card_payment", "pending_transfer", "terminate_account", "card_swallowed", "transaction_charged_twice", "verify_source_of_funds", "transfer_timing", "reverted_card_payment?", "change_pin", "beneficiary_not_allowed", "transfer_fee_charged", "receiving_money", "failed_transfer", "transfer_into_account", "verify_top_up", "getting_spare_card", "top_up_by_cash_or_cheque", "order_physical_card", "virtual_card_not_working", "wrong_exchange_rate_for_cash_withdrawal", "get_disposable_virtual_card", "top_up_failed", "balance_not_updated_after_bank_transfer", "cash_withdrawal_not_recognised", "exchange_charge", "top_up_by_card_charge", "activate_my_card", "cash_withdrawal_charge", "card_about_to_expire", "apple_pay_or_google_pay", "verify_my_identity", "country_support"]


def test_taxonomy_covers_all_banking77_labels_under_their_own_names():
    assert len(BANKING77) == 77
    intents = {i.name: i for i in load_intents()}
    assert set(BANKING77) <= set(intents)
    for label in BANKING77:
        sources = [s for s in intents[label].sources if s.dataset == "banking77"]
        assert [s.label for s in sources] == [label]
    # each banking77 label maps to exactly one intent (no ambiguous double mapping)
    mapped = [s.label for i in intents.values() for s in i.sources if s.dataset == "banking77"]
    assert sorted(mapped) == sorted(BANKING77)


def test_generic_intents_and_tiers_follow_the_product_brief():
    intents = {i.name: i for i in load_intents()}
    for name in ("order_status", "password_reset", "billing_inquiry", "appointment",
                 "request_refund", "technical_problem", "talk_to_human", "update_account_details"):
        assert intents[name].tier == 1, name
    for name in ("complaint", "dispute_charge", "cancel_service", "vulnerable_customer",
                 "lost_or_stolen_card", "compromised_card", "terminate_account"):
        assert intents[name].tier == 2, name
    for name in ("talk_to_human", "password_reset", "complaint", "vulnerable_customer",
                 "cancel_service"):
        assert len(intents[name].seeds) >= 25, name


def test_routing_policy_matches_taxonomy():
    intents, policy = load_intents(), load_routing_policy()
    assert check_policy_covers(intents, policy) == []
    assert policy.bot_queue == "bot" and "bot" in policy.queues
    for it in intents:
        entry = policy.intents[it.name]
        if it.tier == 1:
            assert entry.queue == "bot" and policy.handoff_queue(it.name) == it.queue
        else:
            assert entry.queue == it.queue != "bot"
    assert policy.expected_queue("complaint") == "complaints"
    assert policy.expected_queue("no_such_intent") == policy.default_queue
    assert policy.expected_queue(None) is None


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_broken_intents_yaml_names_file_entry_and_fix(tmp_path):
    p = _write(tmp_path, "intents.yaml",
               "intents:\n  ok: {tier: 1, queue: q, description: d, seeds: [hi]}\n"
               "  bad_one: {tier: 3, queue: q, description: d, seeds: [hi]}\n")
    with pytest.raises(ConfigError) as exc:
        load_intents(p)
    msg = str(exc.value)
    assert str(p) in msg and "'bad_one'" in msg and "line 3" in msg and "Fix:" in msg


def test_source_without_label_and_intent_without_examples_are_rejected(tmp_path):
    p = _write(tmp_path, "a.yaml", "intents:\n  x: {tier: 1, queue: q, description: d, "
                                   "sources: [{dataset: multidogo, label: y}]}\n")
    with pytest.raises(ConfigError, match="domain"):
        load_intents(p)
    p = _write(tmp_path, "b.yaml", "intents:\n  x: {tier: 1, queue: q, description: d}\n")
    with pytest.raises(ConfigError, match="neither `sources` nor `seeds`"):
        load_intents(p)


def test_duplicate_keys_and_bad_syntax_are_errors(tmp_path):
    p = _write(tmp_path, "dup.yaml", "intents:\n  a: {tier: 1, queue: q, description: d, "
                                     "seeds: [x]}\n  a: {tier: 2, queue: q, description: d, "
                                     "seeds: [x]}\n")
    with pytest.raises(ConfigError, match="duplicate key 'a'"):
        load_intents(p)
    p = _write(tmp_path, "syntax.yaml", "intents: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_intents(p)
    with pytest.raises(ConfigError, match="can't read"):
        load_intents(tmp_path / "missing.yaml")


def test_broken_routing_policy_names_file_and_entry(tmp_path):
    text = ROUTING_POLICY_PATH.read_text().replace(
        "  complaint: {queue: complaints, tier: 2}", "  complaint: {queue: nowhere, tier: 2}")
    p = _write(tmp_path, "policy.yaml", text)
    with pytest.raises(ConfigError) as exc:
        load_routing_policy(p)
    assert str(p) in str(exc.value) and "'complaint'" in str(exc.value)
    assert "'nowhere'" in str(exc.value)
    p = _write(tmp_path, "policy2.yaml", "version: x\ndefault_queue: bot\nqueues: [bot]\n"
                                         "intents:\n  a: {queue: bot, tier: one}\n")
    with pytest.raises(ConfigError, match="'a'.*tier"):
        load_routing_policy(p)


def test_bundled_files_are_the_defaults():
    assert INTENTS_PATH.name == "intents.yaml" and INTENTS_PATH.exists()
    assert len(load_intents()) == len(load_routing_policy().intents)
