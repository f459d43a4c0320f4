# The English lexicon of the QPQ analyzer: phrases that mark each stage of the "IT support" script and of
# other scams. Written by the Bonafide team from the published anatomy of quid-pro-quo and vishing attacks
# (help-desk impersonation, problem probe, social proof, favour, then the ask); no text is copied from any
# dataset. Matching is case-insensitive on whole words; a phrase is literal text.
#
# Format: `@stage NAME [KIND] "explanation for a non-expert"`, then one phrase per line.

@stage authority_claim it "They say they are from IT or the help desk."
it department
it dept
it support
it team
it services
it service desk
it help desk
it helpdesk
it security
it administrator
it admin
help desk
helpdesk
service desk
tech support
technical support
support team
support desk
desktop support
network administrator
network team
system administrator
systems administrator
sysadmin
email administrator
mail administrator
mailbox administrator
webmaster
postmaster
security team
information security
infosec team
calling from it
from the it
from the help desk
from the service desk
from technical support
microsoft support
windows support
microsoft technician
windows technician
apple support
office 365 team
microsoft 365 team
account services

@stage authority_claim organisation "They say they are calling for a bank, a company or an authority."
fraud department
fraud prevention
fraud team
fraud detection
security department
from your bank
your bank
customer service
customer support
billing department
account department
amazon
paypal
irs
internal revenue service
social security administration
tax office
police department
the police
federal agent
medicare
visa
mastercard
apple
microsoft
netflix
delivery company
courier

@stage problem_probe "They say something is wrong with your computer or account, to open a conversation."
having trouble
having problems
having issues
having any issues
having any problems
experiencing issues
experiencing problems
your computer is
your computer has
your pc is
your pc has
your device is
your device has
running slow
running slowly
infected
virus
malware
hacked
compromised
we detected
we have detected
we've detected
we noticed
we have noticed
we've noticed
we are seeing
we're seeing
unusual activity
suspicious activity
unusual sign-in
unusual sign in
unusual login
unauthorized
unauthorised
security breach
security alert
security issue
your account has been
your account is
your account will be
your mailbox is
your mailbox has
your email account
mailbox is full
over quota
over its quota
storage limit
has been suspended
has been locked
has been disabled
has been blocked
has been restricted
will be locked
will be suspended
will be deactivated
will be disabled
will be closed
will be blocked
will be terminated
has expired
will expire
is about to expire
password expires
password will expire
password has expired
problem with your
issue with your
problems with your
issues with your
error on your
errors from your
cannot log in
can't log in
unable to log in
locked out
has been charged
charged to your
failed payment
payment failed
could not be delivered
couldn't be delivered
failed delivery

@stage social_proof "They say many others have the same problem, so it seems normal."
other people
other users
other employees
several people
several users
many people
many users
a lot of people
lots of people
a few people
everyone in
everybody in
everyone on your
others in your
your colleagues
your coworkers
your co-workers
your team has
your department
the whole office
the entire office
whole company
entire company
affecting many
affecting several
affecting users
affected users
all users
all staff
all employees
widespread
same problem
same issue

@stage rapport "They are very friendly or sympathetic, to lower your guard."
how are you
how are you doing
how's your day
how is your day
hope you are well
hope you're well
hope you're doing well
sorry to bother
sorry to disturb
sorry for the trouble
sorry for the inconvenience
i understand
i completely understand
i know how frustrating
i know it's frustrating
no worries
don't worry
do not worry
i'm here to help
i am here to help
happy to help
glad to help
i appreciate
thank you for your patience
thanks for your patience
you're doing great
you are doing great
my name is

@stage favour_offer "They offer to fix something for you, so you feel you owe them."
i can fix
i can help
i'll fix
i will fix
we can fix
let me fix
let me help
i can sort
i'll sort
i can take care
i'll take care
we'll take care
we will take care
i can get it fixed
we can resolve
i can resolve
i'll resolve
to fix this
to fix the issue
to fix the problem
to resolve this
to resolve the issue
to restore
restore your access
restore access
to unlock
unlock your account
to reactivate
reactivate your account
to keep your account
keep your account active
to avoid
to prevent
i can reset
we can reset
free upgrade
upgrade for you
speed up your
fix it for you
do it for you
walk you through
guide you through
help you with that
clean your computer
remove the virus
remove the malware

@stage sensitive_request credential "They ask for your password or sign-in details."
tell me your password
what is your password
what's your password
give me your password
read me your password
need your password
confirm your password
verify your password
provide your password
enter your password
type your password
update your password
your current password
your username and password
your login details
your login credentials
your credentials
your sign-in details
your account details
your log in details
your pin
your passcode
your password

@stage sensitive_request mfa_code "They ask for a code sent to your phone or app: it lets them sign in as you."
the code we sent
the code we just sent
the code i sent
the code i just sent
the code you received
the code you just received
code on your phone
code on your screen
read me the code
read out the code
tell me the code
give me the code
verification code
security code
one-time code
one time code
one-time password
one time password
authentication code
authenticator code
6-digit code
6 digit code
six-digit code
six digit code
approve the request
approve the notification
approve the prompt
accept the prompt
accept the notification
tap approve
press approve

@stage sensitive_request login_walkthrough "They want to go through your sign-in with you: they will watch or capture it."
log in now
sign in now
log in while
sign in while
while you log in
while you sign in
log into your account
sign into your account
log in to your account
sign in to your account
go to the login page
go to the sign-in page
open your browser and go to
verify your account
verify your identity
confirm your identity
confirm your account
validate your account
click the link
click on the link
follow the link
use the link
visit the link
click here
login here
sign in here
log in here

@stage sensitive_request remote_access "They want to connect to or see your computer."
remote access
remote session
remote desktop
remote connection
remote control
connect to your computer
connect to your pc
connect to your laptop
connect remotely
access your computer
access to your computer
control of your computer
take control
share your screen
screen share
screen sharing
teamviewer
anydesk
logmein
quick assist
quickassist
ultraviewer
supremo
screenconnect
remote support tool

@stage sensitive_request software_install "They want you to install or run something."
install this
install the update
install an update
install the upgrade
install the software
install the app
install the tool
download this
download the update
download the file
download and install
download and run
run this file
run the file
run the program
open the attachment
open the attached
enable macros
enable content
security update
security patch

@stage sensitive_request payment "They ask for money, gift cards or bank or card details."
gift card
gift cards
itunes card
google play card
steam card
wire transfer
bank transfer
send money
transfer money
transfer the funds
bitcoin
cryptocurrency
western union
moneygram
pay a fee
pay the fee
processing fee
delivery fee
customs fee
release fee
pay now
payment now
your card number
credit card number
debit card number
card details
card number
bank details
bank account number
account number
routing number
cvv

@stage sensitive_request personal_info "They ask for personal details that can be used to impersonate you."
social security number
ssn
date of birth
mother's maiden name
maiden name
passport number
driver's license
drivers license
national insurance number
your full name and address
your home address
employee id
badge number

@stage urgency "They rush you so you do not stop to check."
immediately
right now
right away
urgent
urgently
as soon as possible
asap
within 24 hours
within 24hrs
within 48 hours
within the hour
within minutes
today only
act now
act fast
final notice
final warning
last chance
last warning
expires today
before it's too late
time is running out
limited time
don't delay
do not delay
without delay
or your account will
or you will lose
failure to
legal action
arrest warrant
will be arrested
lawsuit
penalty

@stage secrecy "They ask you to keep it quiet or not to check with anyone."
don't tell
do not tell
keep this between us
keep it between us
keep this confidential
keep it confidential
keep this quiet
don't mention
do not mention
don't discuss
do not discuss
no need to tell
don't share this
between you and me
don't hang up
do not hang up
stay on the line
don't contact
do not contact

@stage channel_switch "They move you to another channel (a text, a link, another number) they control."
send you a text
sent you a text
i'll text you
we'll text you
sent you an email
send you an email
check your email
check your phone
check your messages
on whatsapp
via whatsapp
on telegram
via telegram
call me back on
call this number
call us back
call us at
call us on
call the number
call now
text back
reply with
reply to this
press 1
press one
press 9
visit our website
scan the qr code
scan this qr code

@stage scam_cue "It has the marks of a common scam (prizes, threats, money, fake deliveries)."
you have won
you've won
you have been selected
you've been selected
winner
congratulations
prize
claim your
claim now
lottery
cash prize
reward
free gift
free entry
guaranteed
pre-approved
pre approved
loan
debt relief
refund
tax refund
vehicle warranty
car warranty
extended warranty
student loan
interest rate
investment opportunity
double your money
your package
a package for you
package delivery
package could not be delivered
parcel
shipment
customs fee
customs charge
customs duty
unsubscribe
text stop
reply stop
txt stop
txt win
txt to
per week
per msg
fraudulent activity
fraudulent activities
criminal activity
illegal activity
illegal activities
money laundering
drug trafficking
suspend your social security
your social security number has been
your social security number was
you have qualified
you qualify for
qualified for a
are qualified for
you are eligible
you're eligible
pre-qualified
special offer
exclusive offer
limited offer
risk free
risk-free
high return
high-return
high returns
guaranteed returns
guaranteed profit
passive income
earn money from home
make money from home
work from home
affiliate marketing
pay upfront
paying upfront
purchasing products upfront
investment scheme
trading platform
government grant
all-expenses-paid
all expenses paid
sweepstakes
jackpot
you have been chosen
you were chosen
will be disconnected
will get disconnected
pending balance
outstanding balance
back taxes
owe the irs
dear customer
dear valued customer
dear user

@stage prior_request "They refer to a request you made yourself. Genuine support only contacts you about requests you made: check that you really did."
you called about
you called us
you called earlier
you rang about
you rang us
you reached out
you contacted us
you got in touch
you asked about
you mentioned
as you mentioned
you inquired
you enquired
you recently inquired
you recently enquired
you expressed interest
you had some questions
you had questions
you asked us
you asked for
as you asked
as requested
as you requested
you requested
you had requested
your request
your recent request
your enquiry
your inquiry
your query
you had a query
your question
your ticket
the ticket you opened
the ticket you raised
the case you opened
you reported
your report
the issue you reported
the problem you reported
returning your call
return your call
following up on your
following up on the
follow up on your
in response to your
thanks for calling
thank you for calling
thanks for contacting
thank you for contacting
you booked
your appointment
your booking
your order number

@stage official_channel "They send you to a channel you already know: a branch or office in person, or the number on your card or bill. Genuine organisations do this; use that channel yourself, not a number or link given in the message."
in person
visit your local branch
visit your nearest branch
visit the nearest branch
visit your local office
visit your nearest office
visit our nearest
visit your nearest
visit your local
nearest branch
local branch
nearest office
local office
bring your id
bring a photo id
bring your photo id
bring photo id
bring a valid id
bring valid id
bring your identification
with valid identification
present your official id
number on the back of your card
number on the back of the card
number on your card
number on your statement
number on your bill
hang up and call
hang up and ring
not processed over the phone
not be processed over the phone
cannot be done over the phone
can't be done over the phone
