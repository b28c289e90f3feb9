"""Bot and agent templates, and the few customer lines no dataset supplies.

Everything in this module was written by the tierlens team for the simulator. Customer
openers and most customer follow-ups come from the real utterance bank (data/bank/); only
frustration lines, vulnerability cues mid-conversation, identity answers and PII-bearing
lines are written here. Bots reuse a small set of templates on purpose (like real bots).
"""

from __future__ import annotations

TOPIC = {
    "cards": "your card", "payments": "your payment", "transfers": "your transfer",
    "accounts": "your account", "billing": "your bill", "orders": "your order",
    "tech_support": "the technical issue", "bookings": "your appointment",
    "travel": "your trip", "insurance": "your policy", "disputes": "that charge",
    "fraud": "your card security", "retention": "your account", "complaints": "your complaint",
    "specialist": "your situation", "general": "your question",
}

QUEUE_LABEL = {
    "cards": "cards", "payments": "payments", "transfers": "transfers", "accounts": "accounts",
    "billing": "billing", "orders": "orders", "tech_support": "technical support",
    "bookings": "bookings", "travel": "travel", "insurance": "insurance claims",
    "disputes": "disputes", "fraud": "fraud", "retention": "customer accounts",
    "complaints": "customer relations", "specialist": "customer support",
    "general": "customer service",
}

# ------------------------------------------------------------------------------- bot
BOT_GREETING = (
    "Hi, I'm the {brand} virtual assistant. How can I help you today?",
    "Hello! You're chatting with {brand}'s assistant. What can I do for you?",
)
BOT_RECORDING_NOTICE = "This call may be recorded for quality and training purposes. "
BOT_ACK = (
    "I can help with {topic}.",
    "Sure, let me help you with {topic}.",
    "Thanks. I can look into {topic} for you.",
)
BOT_ASK_DETAIL = {
    "orders": "Could you give me your order number?",
    "cards": "Which card is this about? Please give me the last four digits.",
    "payments": "Can you tell me the amount and the date of the payment?",
    "transfers": "How much was the transfer and when did you send it?",
    "billing": "Can you tell me the account number on your bill?",
    "travel": "Could you give me your booking reference?",
    "insurance": "Could you give me your policy number?",
    "bookings": "What day and time would suit you?",
    "tech_support": "Which device are you using?",
    "accounts": "Can you tell me the email address on the account?",
}
BOT_ANSWER = {
    "cards": (("Cards usually arrive within 3 to 5 working days. You can track yours in the app "
              "under Cards > Status."),
              ("You can manage your card in the app under Cards. From there you can activate it, "
              "freeze it or order a new one.")),
    "payments": (("Card payments usually show as pending for up to 3 working days before they "
                 "complete."),
                 ("You can see the fees and exchange rate for every payment in the app under "
                 "Transactions.")),
    "transfers": (("Transfers within the country usually arrive within 2 hours; international "
                  "ones can take up to 3 working days."),
                  ("You can check the status of your transfer in the app under Payments > "
                  "Transfers.")),
    "accounts": ("You can update this in the app under Profile > Personal details.",
                 ("We need to verify your identity to keep your account safe. You can do it in "
                 "the app with a photo ID.")),
    "billing": (("Your latest bill is available in your account under Billing, with the due "
                "date at the top."),
                ("Your bill is due on the 15th of each month. You can pay it online or by "
                "direct debit.")),
    "orders": ("Your order has been dispatched and should arrive within 2 working days.",
               "Your order is being prepared and will ship tomorrow."),
    "tech_support": (("Please try closing the app, updating it to the latest version and "
                     "signing in again."),
                     "I've sent a password reset link to the email address on your account."),
    "bookings": ("You're booked in. You'll get a confirmation by email shortly.",
                 "I've moved your appointment. You'll get a confirmation by email."),
    "travel": ("Your booking is confirmed and your boarding pass has been sent to your email.",
               "Your flight is on time. Check-in opens 24 hours before departure."),
    "insurance": ("I've sent your proof of insurance to the email on your policy.",
                  "Your claim is being reviewed. You'll hear from us within 5 working days."),
    "general": ("You can find the answer in our help centre under Accounts and Payments.",),
}
BOT_LOW_CONFIDENCE = (
    "I'm not sure I understood. Did you mean {other}?",
    "Sorry, I'm not certain what you mean. Is this about {other}?",
)
BOT_FAILURE = "Sorry, I didn't quite get that. Could you rephrase your question?"
BOT_DEFLECT = (
    "I can help you with that right here. What seems to be the problem?",
    "Our agents are very busy right now. Can I help you with something else?",
    "Before I connect you, can you tell me a bit more about your issue?",
    "I'd like to try to help first. What is your question about?",
)
BOT_HANDOFF = (
    "I'm connecting you with a member of our {queue_label} team now.",
    "Let me transfer you to one of our {queue_label} specialists.",
    "One moment, I'm passing you to a colleague in our {queue_label} team.",
)
BOT_POLICY_HANDOFF = "This needs one of our specialists. I'm connecting you to our {queue_label} team."
BOT_STILL_WAITING = "All our agents are busy at the moment. I'm still trying to connect you."
BOT_UNRESOLVED = "I'm sorry, I can't help with that here. You can find more in our help centre."
BOT_PASSWORD_ASK = "To verify you, please type your online banking password."

# ------------------------------------------------------------------------------- agent
AGENT_RECORDING_NOTICE = "This call is recorded for quality and training purposes. "
AGENT_GREETING = (
    "Hi, my name is {name} from the {queue_label} team. How can I help you today?",
    "Hello, you're speaking with {name}. How can I help?",
    "Hi there, {name} here from {queue_label}. What can I do for you?",
)
AGENT_GREETING_WARM = (
    ("Hi, I'm {name} from the {queue_label} team. I can see you've been asking about {topic}, "
    "so you won't need to repeat anything."),
    ("Hello, this is {name}. I've read your chat with our assistant about {topic}; let me take "
    "it from here."),
)
AGENT_ID_CHECK = (
    "Before I make any changes, can you confirm your date of birth and postcode?",
    "For security, can you confirm the first line of your address and your date of birth?",
    "Can you confirm your date of birth and the postcode on the account, please?",
)
AGENT_VERIFIED = "Thank you, you're verified."
AGENT_EMPATHY = (
    "I'm sorry to hear that, I understand how frustrating this must be.",
    "I'm sorry about the trouble. Let's get this sorted for you.",
    "I completely understand, and I apologise for the inconvenience.",
)
AGENT_EMPATHY_VULNERABLE = {
    "bereavement": "I'm so sorry for your loss. Please take all the time you need.",
    "illness": "I'm sorry to hear you're unwell. We'll make this as easy as we can for you.",
    "financial_hardship": "Thank you for telling me. We have options that can help, including "
                          "a payment break.",
    "self_harm": "I'm really sorry you're feeling this way. You're not alone; I can give you the "
                 "number of a support line, and we can pause everything on your account.",
    "accessibility": "Thank you for letting me know. I can send everything in a format that "
                     "works for you.",
}
AGENT_SOLUTION = {
    "cards": "I've ordered a replacement card for you; it will arrive in 3 to 5 working days.",
    "payments": "I've checked the payment and raised it with our payments team; you'll see an "
                "update within 2 working days.",
    "transfers": "I've traced the transfer; it's been released and should arrive today.",
    "accounts": "I've updated your details on the account.",
    "billing": "I've gone through your bill and applied a credit for the difference.",
    "orders": "I've chased the courier; your order will be delivered tomorrow.",
    "tech_support": "I've reset your access; please try signing in again now.",
    "bookings": "I've booked that appointment for you and sent a confirmation.",
    "travel": "I've updated your booking and emailed you the new details.",
    "insurance": "I've logged the claim and emailed you the reference.",
    "disputes": "I've raised a dispute for that charge; we'll reply within 10 working days.",
    "fraud": "I've blocked the card and ordered a new one; any fraudulent payments will be "
             "investigated.",
    "retention": "I've processed that for you and sent a confirmation by email.",
    "complaints": "I've logged your complaint formally and a case manager will reply within 5 "
                  "working days.",
    "specialist": "I've put a 30-day hold on your account and noted your circumstances.",
    "general": "I've sorted that out for you.",
}
AGENT_ACCOUNT_CHANGE = "I've made that change on your account now."
AGENT_UNRESOLVED = "I'm afraid there's nothing more I can do about this today."
AGENT_TRANSFER = "I'll need to transfer you to our {queue_label} team, one moment please."
AGENT_ANYTHING_ELSE = "Is there anything else I can help you with today?"
AGENT_CLOSING = (
    "Thanks for contacting us, have a great day.",
    "Thank you for your patience. Take care.",
    "Glad I could help. Have a lovely day.",
)
AGENT_GUARANTEE = (
    "I guarantee you'll get the full amount back by tomorrow.",
    "I promise this will be fixed by the end of today, one hundred percent.",
    "Don't worry, you're guaranteed to win this dispute.",
)
AGENT_ABUSIVE = (
    "Honestly, that's a stupid question.",
    "Look, stop wasting my time.",
    "Calm down, you're being ridiculous.",
)
AGENT_PASSWORD_ASK = "Can you tell me your password so I can check the account?"
AGENT_READBACK_CARD = "Just to confirm, the card number is {card}?"

# ------------------------------------------------------------------------------- customer
CUSTOMER_FRUSTRATED = (
    "This is not helpful at all.",
    "You're not listening to me.",
    "I've already told you this!",
    "This is so frustrating.",
    "That doesn't answer my question.",
    "Useless. This is really annoying.",
    "Why is this so difficult?",
    "I'm getting really fed up with this.",
)
CUSTOMER_REPEAT_PREFIX = (
    "I contacted you a few days ago about this and it's still not sorted. ",
    "Me again. ",
    "I was told this would be fixed. ",
)
CUSTOMER_REPEAT_AFTER_HANDOFF = (
    "As I said, {fact}",
    "Like I told the bot, {fact}",
    "{fact}",
)
CUSTOMER_ID_ANSWER = "It's {dob} and the postcode is {postcode}."
VULNERABLE_CUES = {
    "bereavement": ("My husband passed away last month and I can't keep up with all this.",
                    "My mum died recently and I'm dealing with her accounts.",
                    "Sorry, my partner died two weeks ago and I'm finding this hard."),
    "illness": ("I've been in hospital and couldn't deal with this.",
                "I'm having chemotherapy at the moment so I'm struggling."),
    "financial_hardship": ("I lost my job and can't pay this month.",
                           "I can't afford this anymore, I'm behind on everything.",
                           "My hours were cut and I'm struggling to pay my bills."),
    "self_harm": ("Honestly I can't cope with any of this anymore.",
                  "I don't see the point in anything right now."),
    "accessibility": ("I'm partially sighted so I can't read the letters you send.",),
}
PII_LINES = {
    "EMAIL": "My email is {value}",
    "PHONE": "You can call me on {value}",
    "CARD": "My card number is {value}",
    "ORDER": "The order number is {value}",
    "SSN": "My social security number is {value}",
    "IBAN": "The money came from {value}",
}

# intent-specific bot answers (fall back to BOT_ANSWER by queue)
BOT_ANSWER_BY_INTENT = {
    "order_status": ("Your order has been dispatched and should arrive within 2 working days.",
                     "Your parcel is with the courier and is due tomorrow."),
    "password_reset": ("I've sent a password reset link to the email address on your account.",
                       ("You can reset your password from the sign-in page: tap 'Forgot password' "
                       "and follow the link we email you.")),
    "billing_inquiry": (("Your latest bill is available under Billing, with the amount and the due "
                        "date at the top."),),
    "appointment": ("You're booked in. You'll get a confirmation by email shortly.",
                    "I've moved your appointment. You'll get a confirmation by email."),
    "request_refund": (("I've started a refund request. Refunds usually reach your account within "
                       "5 working days."),),
    "Refund_not_showing_up": ("Refunds can take up to 5 working days to show in your account.",),
    "technical_problem": (("Please try closing the app, updating it to the latest version and "
                          "signing in again."),
                          ("We're not aware of any outage right now. Restarting the device usually "
                          "fixes this.")),
    "update_account_details": (("You can update your contact details under Profile > Personal "
                               "details."),),
    "book_flight": ("I've found flights for those dates. Would you like me to book the first one?",),
    "change_seat": ("I've updated your seat. You'll see it on your boarding pass.",),
    "boarding_pass": ("Your boarding pass has been sent to your email.",),
    "flight_status": ("Your flight is on time. Check-in opens 24 hours before departure.",),
    "lost_luggage": ("I've logged a missing-bag report. We'll text you when your bag is found.",),
    "proof_of_insurance": ("I've sent your proof of insurance to the email on your policy.",),
    "claim_status": ("Your claim is being reviewed. You'll hear from us within 5 working days.",),
    "device_claim": ("I've opened a repair claim for your device and emailed you the next steps.",),
    "start_service": ("I can set that up for you. Our plans start at 25 a month.",),
    "card_arrival": (("Cards usually arrive within 3 to 5 working days. You can track yours in the "
                     "app under Cards > Status."),),
    "activate_my_card": ("You can activate your card in the app under Cards > Activate.",),
    "change_pin": ("You can change your PIN at any of our ATMs or in the app under Cards > PIN.",),
    "exchange_rate": (("We use the interbank rate. You can see today's rate in the app under "
                      "Exchange."),),
    "transfer_timing": (("Transfers within the country usually arrive within 2 hours; "
                        "international ones can take up to 3 working days."),),
    "pending_card_payment": (("Card payments usually show as pending for up to 3 working days "
                             "before they complete."),),
    "top_up_failed": (("Top-ups can fail if your card issuer blocks them. Please try another card or "
                      "a bank transfer."),),
}
